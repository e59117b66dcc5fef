// Writes the crawler pattern of the locked isbot package as one line of text (a case-insensitive
// regular expression, PCRE-compatible), for the analytics bot filter. Run by scripts/install-deps.
const fs = require('fs');
const path = require('path');
const web = path.join(__dirname, '..', 'web');
const { getPattern } = require(path.join(web, 'node_modules', 'isbot'));
const pattern = getPattern();
if (!(pattern instanceof RegExp) || pattern.source.length < 100) {
  console.error('extract-bot-pattern: the package has no usable pattern');
  process.exit(1);
}
fs.mkdirSync(path.join(web, 'generated'), { recursive: true });
// JavaScript reads "[\\d-.]" as a digit, '-' or '.'; PCRE calls it a bad range. Escape such hyphens.
const source = pattern.source.replace(/(\\[wdsWDS])-(?!\])/g, '$1\\-');
fs.writeFileSync(path.join(web, 'generated', 'bot-pattern.txt'), source + '\n');
console.log(`extract-bot-pattern: ${source.length} characters`);
