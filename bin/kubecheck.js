#!/usr/bin/env node
import { main } from '../dist/kubecheck.mjs';

main(process.argv).then((code) => {
  process.exitCode = code;
});
