/**
 * JSON documents for the event checks' tests (json-object-check.test.ts, the
 * wasm framer's tests): valid and invalid of every kind, and the reference
 * answer, JSON.parse's.
 */
export const JSON_SAMPLES: readonly string[] = [
  '{}',
  ' { } ',
  '{"a":1}',
  '{"a":[1,2,{"b":null}],"c":true,"d":false,"e":-0.5e+10,"f":"x\\u00e9\\n\\"y"}',
  '{"a":[]}',
  '{"a":{}}',
  '{"a":[[],[{}]]}',
  '[]',
  '"s"',
  '1',
  '{',
  '{"a"}',
  '{"a":}',
  '{"a":1,}',
  '{"a":[1,]}',
  '{,"a":1}',
  '{"a":01}',
  '{"a":1.}',
  '{"a":-}',
  '{"a":1e}',
  '{"a":tru}',
  '{"a":"\\x"}',
  '{"a":"\\u12g4"}',
  '{"a":"tab\there"}',
  '{"a":1}}',
  '{"a":1} x',
  '{"a":[1}',
  '{"a":{]}',
  '{1:2}',
  '{"a" "b"}',
  '{"a":1 "b":2}',
  // and more edges: words and numbers cut by the end, escapes at the end, spaces
  '{"a":true}',
  '{"a":fals}',
  '{"a":nul}',
  '{"a":null',
  '{"a":"\\u00e',
  '{"a":"\\',
  '{"a":"x',
  '{"a":-1.5E-3}',
  '{"a":1E+}',
  '{"a":[true,false,null,"",0,-0,1e5]}',
  '\t{\r"a"\n:\t[ 1 , { } ] }\t',
  '{"a":1},',
  '{"":""}',
  '{"\\/\\b\\f\\n\\r\\t\\"\\\\":"\\uABCD\\uabcd"}',
  '{}x',
  'x{}',
  '{}}',
  '{oops}',
  '}{',
  '{"a":[}]}',
  '{"a":1]',
];

/** Whether JSON.parse reads `text` as one object: what the full event check must agree with. */
export function parsesAsObject(text: string): boolean {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value);
  } catch {
    return false;
  }
}
