#!/usr/bin/env node
/*
 * Expands and canonicalizes JSON-LD documents with jsonld.js (Digital Bazaar's JSON-LD processor, not
 * pyld), to check that a document means the same to it as to us.
 *
 *   node tests/interop/expand.mjs < documents.json
 *
 * Input: a JSON array of JSON-LD documents. Output (stdout): a JSON array, one entry per document:
 *   {expanded: <the number of top-level nodes jsonld.expand gives, null if it failed>,
 *    nquads: <RDFC-1.0 canonical N-Quads, "" if canonize failed>, error: null | message}
 * The document loader serves only the JSON-LD contexts our server ships (badges/credentials/contexts/)
 * and throws for any other URL: nothing is fetched.
 */
import fs from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

import jsonld from 'jsonld';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const CONTEXTS_DIR = path.resolve(HERE, '..', '..', 'badges', 'credentials', 'contexts');
const index = JSON.parse(fs.readFileSync(path.join(CONTEXTS_DIR, 'index.json'), 'utf8'));
const SHIPPED = new Map(Object.entries(index).map(
  ([url, file]) => [url, JSON.parse(fs.readFileSync(path.join(CONTEXTS_DIR, file), 'utf8'))]));

async function documentLoader(url) {
  if(SHIPPED.has(url)) {
    return {contextUrl: null, documentUrl: url, document: SHIPPED.get(url)};
  }
  throw new Error(`Refusing to load ${url}: not a context our server ships.`);
}

async function one(document) {
  let expanded;
  try {
    expanded = await jsonld.expand(document, {documentLoader});
  } catch(error) {
    return {expanded: null, nquads: '', error: String(error && error.message || error)};
  }
  try {
    const nquads = await jsonld.canonize(document, {
      algorithm: 'RDFC-1.0', format: 'application/n-quads', documentLoader, safe: true});
    return {expanded: expanded.length, nquads, error: null};
  } catch(error) {
    return {expanded: expanded.length, nquads: '', error: String(error && error.message || error)};
  }
}

const input = JSON.parse(fs.readFileSync(process.argv[2] || 0, 'utf8'));
const results = [];
for(const document of input) {
  results.push(await one(document));
}
process.stdout.write(JSON.stringify(results));
