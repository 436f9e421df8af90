import { describe, expect, it } from 'vitest';
import { describeTlsError } from '../../../src/mqtt/tls-errors';

const err = (message: string, code?: string | number) => Object.assign(new Error(message), code === undefined ? {} : { code });
const url = 'mqtts://broker:8883';

describe('describeTlsError', () => {
  it('names a failed certificate verification and the setting to check', () => {
    const d = describeTlsError(err('self-signed certificate in certificate chain', 'SELF_SIGNED_CERT_IN_CHAIN'), url);
    expect(d).toBe(`broker ${url} certificate not trusted, certificate verification failed (SELF_SIGNED_CERT_IN_CHAIN: self-signed certificate in certificate chain); check mqtt.tls.ca and the broker's certificate (subjectAltName, validity)`);
    expect(describeTlsError(err("Hostname/IP does not match certificate's altnames", 'ERR_TLS_CERT_ALTNAME_INVALID'), url)).toMatch(/certificate not trusted/);
    expect(describeTlsError(err('TLS not authorized'), url)).toMatch(/certificate not trusted.*\(unauthorized: /);
  });

  it('a broker alert is a refusal of our side; alert 116 asks for a client certificate', () => {
    const msg = '408DCA20D37F0000:error:0A00045C:SSL routines:ssl3_read_bytes:tlsv13 alert certificate required:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:918:SSL alert number 116';
    expect(describeTlsError(err(msg, 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED'), url)).toBe(
      `broker ${url} refused the TLS handshake (tlsv13 alert certificate required); the broker requires a client certificate: set mqtt.tls.cert and mqtt.tls.key`,
    );
    const bad = 'x:error:0A000418:SSL routines:ssl3_read_bytes:tlsv1 alert unknown ca:rec_layer_s3.c:918:SSL alert number 48';
    expect(describeTlsError(err(bad, 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA'), url)).toMatch(/refused the TLS handshake \(tlsv1 alert unknown ca\); check mqtt\.tls\.cert/);
  });

  it('anything else is not a TLS cause', () => {
    expect(describeTlsError(err('connect ECONNREFUSED 127.0.0.1:8883', 'ECONNREFUSED'), url)).toBeUndefined();
    expect(describeTlsError(err('Connection refused: Not authorized', 135), url)).toBeUndefined();
  });
});
