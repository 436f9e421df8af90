// Node's TLS errors name the OpenSSL cause but not what to change in the config; a box that cannot
// reach its broker because of a certificate needs the operator to act, so the log says which
// side refused and which setting to check.

/** X509 verification results (OpenSSL X509_V_ERR_* as Node names them) and the host check. */
const VERIFY_CODES = new Set([
  'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE', 'UNABLE_TO_DECRYPT_CERT_SIGNATURE', 'CERT_REVOKED', 'CERT_UNTRUSTED',
  'CERT_REJECTED', 'INVALID_CA', 'INVALID_PURPOSE', 'CERT_CHAIN_TOO_LONG', 'PATH_LENGTH_EXCEEDED',
  'HOSTNAME_MISMATCH', 'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * A clear one-line cause for a TLS failure, or undefined for anything else (a refused TCP
 * connection, a CONNACK error). `url` is the broker URL as configured.
 */
export function describeTlsError(err: Error & { code?: unknown }, url: string): string | undefined {
  const code = typeof err.code === 'string' ? err.code : undefined;
  if ((code !== undefined && VERIFY_CODES.has(code)) || err.message === 'TLS not authorized') {
    return `broker ${url} certificate not trusted, certificate verification failed (${code ?? 'unauthorized'}: ${err.message}); check mqtt.tls.ca and the broker's certificate (subjectAltName, validity)`;
  }
  // An alert from the broker during or right after the handshake: it refused us, usually our
  // client certificate (TLS 1.3 alert 116 "certificate required" when none was sent).
  if (code !== undefined && /^ERR_SSL_.*ALERT/.test(code)) {
    const alert = /:([^:]*alert[^:]*):/.exec(err.message)?.[1]?.trim() ?? err.message;
    const hint = code.endsWith('CERTIFICATE_REQUIRED')
      ? 'the broker requires a client certificate: set mqtt.tls.cert and mqtt.tls.key'
      : 'check mqtt.tls.cert and mqtt.tls.key against the CA the broker trusts';
    return `broker ${url} refused the TLS handshake (${alert}); ${hint}`;
  }
  return undefined;
}
