// Writes the common-password list from the locked @zxcvbn-ts/language-common package as plain text,
// one password a line, for Steward's password policy. Run by scripts/install-deps.
const fs = require('fs');
const path = require('path');
const web = path.join(__dirname, '..', 'web');
const { dictionary } = require(path.join(web, 'node_modules', '@zxcvbn-ts', 'language-common'));
const words = dictionary['passwords-common'];
if (!Array.isArray(words) || words.length < 10000) {
  console.error('extract-common-passwords: the package has no usable password list');
  process.exit(1);
}
fs.mkdirSync(path.join(web, 'generated'), { recursive: true });
fs.writeFileSync(path.join(web, 'generated', 'common-passwords.txt'), words.join('\n') + '\n');
console.log(`extract-common-passwords: ${words.length} passwords`);
