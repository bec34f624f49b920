// Preloaded (node --import) into a txrepo process by the reliability suite: writes the
// process's peak resident memory, in KiB, to $TXREPO_RSS_FILE when it exits.
import { writeFileSync } from 'node:fs';

const file = process.env.TXREPO_RSS_FILE;
if (file) process.on('exit', () => writeFileSync(file, String(process.resourceUsage().maxRSS)));
