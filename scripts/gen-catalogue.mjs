#!/usr/bin/env node
// Rewrites the check catalogue in README.md from the registry (run after `npm run build`).
import { readFileSync, writeFileSync } from 'node:fs';
import { withCatalogue } from '../dist/src/catalogue.js';

const path = new URL('../README.md', import.meta.url);
writeFileSync(path, withCatalogue(readFileSync(path, 'utf8')));
console.log('README.md catalogue updated');
