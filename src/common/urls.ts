// The user and password a URL may carry (https://USER:PASSWORD@host/): secrets that
// must not be shown, logged or stored where others read them (src/sync/credentials.ts
// says where they may go instead).

/** USER:PASSWORD@ in a URL, wherever it stands in a text. */
const USERINFO = /(\b[a-z][a-z0-9+.-]*:\/\/)[^/@\s"]*@/gi;

/** `text` with the credentials of every URL in it replaced by ***. */
export function maskCredentials(text: string): string {
  return text.replace(USERINFO, '$1***@');
}

/** Whether a URL carries a user or password. */
export function hasCredentials(url: string): boolean {
  try {
    const u = new URL(url);
    return u.username !== '' || u.password !== '';
  } catch {
    return false;
  }
}
