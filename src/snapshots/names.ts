// Names users give: repositories and tags. They appear in URLs and paths, so they are
// restricted to a safe alphabet (docs/design.md: [A-Za-z0-9][A-Za-z0-9._-]*), and never
// "." or "..".

import { Failure } from '../common/index.ts';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export class InvalidNameError extends Failure {
  override name = 'InvalidNameError';
  readonly kind = 'invalid_input';
}

/** Whether `name` is a repository, tag or token name allowed (check() says why not). */
export const isValidName = (name: string): boolean => NAME.test(name) && !name.includes('..');

function check(kind: string, name: string): string {
  if (!isValidName(name)) {
    // A name can come from an API body of up to 1 MiB: the message shows its start.
    const shown = name.length > 140 ? `${JSON.stringify(name.slice(0, 128))}… (${name.length} characters)` : JSON.stringify(name);
    throw new InvalidNameError(`${kind} name ${shown} is not allowed: use letters, digits, '.', '_' and '-', starting with a letter or digit (at most 128 characters, no '..')`);
  }
  return name;
}

export const checkRepoName = (name: string) => check('repository', name);
export const checkTagName = (name: string) => check('tag', name);
export const checkTokenName = (name: string) => check('token', name);
