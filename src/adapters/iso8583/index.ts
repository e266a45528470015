// The ISO 8583 adapter's public surface: profile, codec, framing, MAC, PIN blocks, keys, masking.
export * from './spec.js';
export * from './codec.js';
export * from './framing.js';
export * from './mac.js';
export * from './pinblock.js';
export * from './keys.js';
export * from './mask.js';
