// Credentials written into a URL (mqtt://user:secret@broker) must never reach a log, an MQTT
// event or an error answer: logs are shipped off the box and read by people who hold no secret.

const USERINFO = /^([a-z][a-z0-9+.-]*:\/\/)[^/?#@\s]*@/i;

/** The URL with any user:password@ replaced by "***@". */
export function redactUrl(url: string): string {
  return url.replace(USERINFO, '$1***@');
}

/** Redacts every URL with credentials inside a longer text (an error message quoting a URL). */
export function redactUrlsIn(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^/?#@\s"']*@/gi, '$1***@');
}
