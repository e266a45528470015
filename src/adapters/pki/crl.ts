// The terminal CA's certificate revocation list, built as X.509 v2 ASN.1 with forge.asn1 (forge has
// no CRL support) and signed sha256WithRSAEncryption with the CA key through node:crypto.
import { sign } from 'node:crypto';
import forge from 'node-forge';

const { asn1 } = forge;
const sha256WithRsaOid = '1.2.840.113549.1.1.11';
const crlNumberOid = '2.5.29.20';

export interface RevokedEntry {
  serial: string;
  revokedAt: Date;
}

function time(at: Date): forge.asn1.Asn1 {
  // RFC 5280: UTCTime through 2049, GeneralizedTime after.
  if (at.getUTCFullYear() < 2050) return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.UTCTIME, false, asn1.dateToUtcTime(at));
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.GENERALIZEDTIME, false, asn1.dateToGeneralizedTime(at));
}

function integerFromHex(hex: string): forge.asn1.Asn1 {
  let bytes = forge.util.hexToBytes(hex.length % 2 ? `0${hex}` : hex);
  if (bytes.charCodeAt(0) & 0x80) bytes = `\x00${bytes}`;
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, bytes);
}

function algorithm(): forge.asn1.Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(sha256WithRsaOid).getBytes()),
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.NULL, false, ''),
  ]);
}

/** PEM `X509 CRL` of the CA, valid from `now` to `nextUpdate`, numbered `crlNumber`. */
export function buildCrlPem(caCertPem: string, caKeyPem: string, revoked: RevokedEntry[], now: Date, nextUpdate: Date, crlNumber: bigint): string {
  const caCert = forge.pki.certificateFromPem(caCertPem);
  const seq = (items: forge.asn1.Asn1[]) => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, items);
  const tbsItems: forge.asn1.Asn1[] = [
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, asn1.integerToDer(1).getBytes()), // v2
    algorithm(),
    forge.pki.distinguishedNameToAsn1(caCert.subject),
    time(now),
    time(nextUpdate),
  ];
  if (revoked.length > 0) tbsItems.push(seq(revoked.map((r) => seq([integerFromHex(r.serial), time(r.revokedAt)]))));
  const crlNumber_ = integerFromHex(crlNumber.toString(16));
  const extension = seq([
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(crlNumberOid).getBytes()),
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, asn1.toDer(crlNumber_).getBytes()),
  ]);
  tbsItems.push(asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [seq([extension])]));
  const tbs = seq(tbsItems);
  const tbsDer = Buffer.from(asn1.toDer(tbs).getBytes(), 'binary');
  const signature = sign('sha256', tbsDer, caKeyPem);
  const crl = seq([tbs, algorithm(), asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BITSTRING, false, `\x00${signature.toString('binary')}`)]);
  const der = asn1.toDer(crl).getBytes();
  return forge.pem.encode({ type: 'X509 CRL', body: der });
}
