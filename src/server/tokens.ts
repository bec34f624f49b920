// Tokens are stored by their sha256 only: `txrepo token create` hashes a new one, the
// API hashes the one a request presents and looks it up.

import { createHash } from 'node:crypto';

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
