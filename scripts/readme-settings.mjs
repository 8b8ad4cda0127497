// @ts-check
// Writes the README's configuration table from src/config.ts (SETTINGS), between its markers.
// `npm run docs`; test/unit/config.test.ts fails while the two differ.
import { readFileSync, writeFileSync } from 'node:fs';
import { settingsTable } from '../dist/config.js';

const readme = new URL('../README.md', import.meta.url);
const text = readFileSync(readme, 'utf8');
const marked = /(<!-- settings:[^\n]*-->\n)[\s\S]*?(\n<!-- \/settings -->)/;
if (!marked.test(text)) throw new Error('README.md has no <!-- settings --> markers');
writeFileSync(readme, text.replace(marked, (_, start, end) => `${start}${settingsTable()}${end}`));
