/**
 * Protocols and ciphers of the named TLS profiles, after Mozilla's server-side TLS guidelines
 * (version 5.7). Fixed strings: nothing from the configuration reaches these lines but the name.
 * Intermediate leaves out the DHE suites: they need an ssl_dhparam file, which twinvip does not
 * ship, and Nginx would skip them anyway. TLS 1.3 suites are OpenSSL's defaults (Mozilla says
 * the same), so modern sets no ssl_ciphers.
 */
export const TLS_PROFILE_LINES: Record<string, { protocols: string[]; ciphers?: string }> = {
  intermediate: {
    protocols: ['TLSv1.2', 'TLSv1.3'],
    ciphers: [
      'ECDHE-ECDSA-AES128-GCM-SHA256',
      'ECDHE-RSA-AES128-GCM-SHA256',
      'ECDHE-ECDSA-AES256-GCM-SHA384',
      'ECDHE-RSA-AES256-GCM-SHA384',
      'ECDHE-ECDSA-CHACHA20-POLY1305',
      'ECDHE-RSA-CHACHA20-POLY1305',
    ].join(':'),
  },
  modern: { protocols: ['TLSv1.3'] },
};
