/**
 * Validates JUnit XML against docs/junit.xsd with xmllint (libxml2 compiled to WebAssembly, from
 * npm: no system package needed).
 */
import { readFileSync } from 'node:fs';
import { validateXML } from 'xmllint-wasm';

const XSD = readFileSync(new URL('../../docs/junit.xsd', import.meta.url), 'utf8');

/** xmllint's complaints about `xml` against the JUnit schema, one line each; empty when valid. */
export async function junitErrors(xml: string): Promise<string[]> {
  const r = await validateXML({ xml: [{ fileName: 'junit.xml', contents: xml }], schema: [XSD] });
  return r.valid ? [] : r.errors.map((e) => e.rawMessage);
}
