// X.509 for `micromesh certs`: a private CA and node certificates signed by
// it, ECDSA P-256 through @peculiar/x509 on Node's webcrypto (no openssl
// binary needed). Loaded only by that command and by tests.
import { webcrypto } from 'node:crypto';
import type * as X509 from '@peculiar/x509';

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;

/** PEM texts of a key pair's private key (PKCS#8) and its certificate. */
export interface CertPair {
  key: string;
  cert: string;
}

export interface CaOptions {
  /** Subject common name. Default `micromesh CA`. */
  name?: string;
  /** Validity, days. Default 3650. */
  days?: number;
  /** Start of validity. Default now (less a minute, for clock skew). */
  notBefore?: Date;
}

export interface NodeCertOptions {
  /** Subject common name, also a DNS SAN. */
  name: string;
  /** IP addresses put in the certificate as SANs. */
  ips?: string[];
  /** Validity, days. Default 825. */
  days?: number;
  /** Start of validity. Default now (less a minute). */
  notBefore?: Date;
}

/**
 * The library, imported on first use (the bundled CLI keeps it external, so
 * a static import would load it for every command). Its dependency
 * injection (tsyringe) needs the Reflect metadata polyfill loaded first.
 */
async function lib(): Promise<typeof X509> {
  await import('reflect-metadata');
  const x509 = await import('@peculiar/x509');
  // Node's webcrypto is the WebCrypto the library expects; its type is declared apart from the DOM's.
  x509.cryptoProvider.set(webcrypto as never);
  return x509;
}

function serial(): string {
  // Positive 16-byte serial: clear the top bit so DER does not read it as negative.
  const b = webcrypto.getRandomValues(new Uint8Array(16));
  b[0]! &= 0x7f;
  return Buffer.from(b).toString('hex');
}

function validity(notBefore: Date | undefined, days: number): { notBefore: Date; notAfter: Date } {
  const start = notBefore ?? new Date(Date.now() - 60_000);
  return { notBefore: start, notAfter: new Date(start.getTime() + days * DAY_MS) };
}

async function keyPem(keys: webcrypto.CryptoKeyPair): Promise<string> {
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return (await lib()).PemConverter.encode(pkcs8, 'PRIVATE KEY');
}

/** A CA: a fresh key and a self-signed certificate allowed to sign node certificates only. */
export async function makeCa(o: CaOptions = {}): Promise<CertPair> {
  const x509 = await lib();
  const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']) as webcrypto.CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${o.name ?? 'micromesh CA'}`,
    ...validity(o.notBefore, o.days ?? 3650),
    keys,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { key: await keyPem(keys), cert: cert.toString('pem') };
}

/** A node's key and certificate signed by `ca`: usable as TLS server and client (both EKUs). */
export async function makeNodeCert(ca: CertPair, o: NodeCertOptions): Promise<CertPair> {
  const x509 = await lib();
  const caCert = new x509.X509Certificate(ca.cert);
  const caKey = await webcrypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(ca.key), ALG, false, ['sign']);
  const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']) as webcrypto.CryptoKeyPair;
  const names = [{ type: 'dns' as const, value: o.name }, ...(o.ips ?? []).map((ip) => ({ type: 'ip' as const, value: ip }))];
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${o.name}`,
    issuer: caCert.subject,
    ...validity(o.notBefore, o.days ?? 825),
    publicKey: keys.publicKey,
    signingKey: caKey,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      new x509.SubjectAlternativeNameExtension(names),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
    ],
  });
  return { key: await keyPem(keys), cert: cert.toString('pem') };
}
