// Checks a terminal's PKCS#10 certificate request before the CA signs its key: PEM shape, key type
// and size, self-signature, and subject CN = the terminal id. Every refusal names its reason.
import forge from 'node-forge';

export const csrCharsMax = 16_384;
export const rsaKeyBitsMin = 2048;
/** Larger keys cost seconds to verify in forge's pure JS and nothing in safety here. */
export const rsaKeyBitsMax = 4096;

const rsaOid = '1.2.840.113549.1.1.1';
const ecOid = '1.2.840.10045.2.1';
const p256Oid = '1.2.840.10045.3.1.7';
const weakSignatureOids = new Set(['1.2.840.113549.1.1.4', '1.2.840.113549.1.1.5']); // md5, sha1 with RSA

export type CsrCheck = { ok: true; publicKey: forge.pki.rsa.PublicKey } | { ok: false; reason: string };

const refuse = (reason: string): CsrCheck => ({ ok: false, reason });

/** The subjectPublicKeyInfo algorithm (and EC curve) of a DER CSR, read before forge parses it (forge throws on EC). */
function keyAlgorithm(der: string): { oid: string; curve?: string } | null {
  const req = forge.asn1.fromDer(der, true);
  const info = (req.value as forge.asn1.Asn1[])[0];
  const spki = (info?.value as forge.asn1.Asn1[] | undefined)?.[2];
  const algo = (spki?.value as forge.asn1.Asn1[] | undefined)?.[0];
  const parts = algo?.value as forge.asn1.Asn1[] | undefined;
  if (!parts?.[0] || typeof parts[0].value !== 'string') return null;
  const oid = forge.asn1.derToOid(forge.util.createBuffer(parts[0].value));
  const curve = parts[1] && parts[1].type === forge.asn1.Type.OID && typeof parts[1].value === 'string' ? forge.asn1.derToOid(forge.util.createBuffer(parts[1].value)) : undefined;
  return curve ? { oid, curve } : { oid };
}

export function checkCsr(pem: string, terminalId: string): CsrCheck {
  if (pem.length > csrCharsMax) return refuse(`the CSR is longer than ${csrCharsMax} characters`);
  let der: string;
  try {
    const blocks = forge.pem.decode(pem);
    if (blocks.length !== 1 || !['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST'].includes(blocks[0]!.type)) {
      return refuse('not a PEM PKCS#10 certificate request (expected one "BEGIN CERTIFICATE REQUEST" block)');
    }
    der = blocks[0]!.body;
  } catch {
    return refuse('not a PEM PKCS#10 certificate request');
  }
  let algorithm: { oid: string; curve?: string } | null;
  try {
    algorithm = keyAlgorithm(der);
  } catch {
    return refuse('the certificate request is not valid DER (PKCS#10)');
  }
  if (!algorithm) return refuse('the certificate request has no readable public key');
  if (algorithm.oid === ecOid) {
    // node-forge cannot verify EC signatures nor put EC keys in certificates: refused, documented.
    if (algorithm.curve !== p256Oid) return refuse(`weak or unsupported key: EC curve ${algorithm.curve ?? 'unknown'} is refused (only P-256 is acceptable, and EC requests are not accepted: use RSA of at least ${rsaKeyBitsMin} bits)`);
    return refuse(`unsupported key: EC P-256 requests are not accepted by this CA; use an RSA key of at least ${rsaKeyBitsMin} bits`);
  }
  if (algorithm.oid !== rsaOid) return refuse(`unsupported key algorithm ${algorithm.oid}; use RSA of at least ${rsaKeyBitsMin} bits`);
  let csr: forge.pki.CertificateSigningRequest;
  try {
    csr = forge.pki.certificationRequestFromAsn1(forge.asn1.fromDer(der, true), true);
  } catch {
    return refuse('the certificate request could not be parsed (PKCS#10)');
  }
  const key = csr.publicKey as forge.pki.rsa.PublicKey | null;
  if (!key) return refuse('the certificate request has no RSA public key');
  const bits = key.n.bitLength();
  if (bits < rsaKeyBitsMin) return refuse(`weak key: RSA ${bits} bits is below the minimum of ${rsaKeyBitsMin}`);
  if (bits > rsaKeyBitsMax) return refuse(`RSA ${bits} bits is above the maximum of ${rsaKeyBitsMax}`);
  if (weakSignatureOids.has(csr.signatureOid ?? '')) return refuse('weak signature algorithm (MD5 or SHA-1): sign the request with SHA-256');
  let verified: boolean;
  try {
    verified = csr.verify();
  } catch {
    verified = false;
  }
  if (!verified) return refuse('bad signature: the request is not signed by the key it carries');
  const cns = csr.subject.attributes.filter((a) => a.name === 'commonName' || a.type === '2.5.4.3');
  if (cns.length !== 1) return refuse(`the request's subject must carry exactly one CN (the terminal id), found ${cns.length}`);
  const cn = String(cns[0]!.value);
  if (cn !== terminalId) return refuse(`the request's subject CN "${cn.slice(0, 64)}" is not the terminal ${terminalId}`);
  return { ok: true, publicKey: key };
}
