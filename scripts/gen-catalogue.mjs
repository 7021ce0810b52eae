#!/usr/bin/env node
// Rewrites the check catalogue and the real cluster's images table in README.md (run after `npm run build`).
import { readFileSync, writeFileSync } from 'node:fs';
import { withCatalogue } from '../dist/src/catalogue.js';
import { withImages } from '../dist/scripts/cluster-images.js';

const path = new URL('../README.md', import.meta.url);
writeFileSync(path, withImages(withCatalogue(readFileSync(path, 'utf8'))));
console.log('README.md catalogue and images table updated');
