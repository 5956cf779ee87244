// decode_pprof.js - decodes a heapgate pprof file with an independent decoder (the
// pprof-format package) and prints it as JSON with every string index resolved, so
// tests/reports/test_pprof.c can compare it field by field with the report it came from.
// Usage: node decode_pprof.js FILE.pb.gz   (numbers are printed as decimal strings: exact
// for 64-bit values)
'use strict';
const fs = require('fs');
const zlib = require('zlib');
const { Profile } = require('pprof-format');

const raw = fs.readFileSync(process.argv[2]);
if (raw[0] !== 0x1f || raw[1] !== 0x8b) {
  throw new Error('not gzip-compressed');
}
const profile = Profile.decode(zlib.gunzipSync(raw));
const strings = profile.stringTable.strings;
const num = (v) => String(v === undefined ? 0 : v);
const str = (i) => {
  const s = strings[Number(i)];
  if (s === undefined) throw new Error(`string index ${i} out of range`);
  return s;
};

const functions = new Map(profile.function.map((f) => [num(f.id), {
  id: num(f.id), name: str(f.name), system_name: str(f.systemName),
  filename: str(f.filename), start_line: num(f.startLine),
}]));
const mappings = new Map(profile.mapping.map((m) => [num(m.id), {
  id: num(m.id), memory_start: num(m.memoryStart), memory_limit: num(m.memoryLimit),
  file_offset: num(m.fileOffset), filename: str(m.filename), build_id: str(m.buildId),
  has_functions: !!m.hasFunctions, has_filenames: !!m.hasFilenames,
  has_line_numbers: !!m.hasLineNumbers, has_inline_frames: !!m.hasInlineFrames,
}]));
const fn = (id) => {
  const f = functions.get(num(id));
  if (!f) throw new Error(`function ${id} not defined`);
  return f;
};
const locations = new Map(profile.location.map((l) => [num(l.id), {
  id: num(l.id), mapping_id: num(l.mappingId), address: num(l.address),
  lines: l.line.map((ln) => ({ function: fn(ln.functionId), line: num(ln.line),
                                column: num(ln.column) })),
}]));
const loc = (id) => {
  const l = locations.get(num(id));
  if (!l) throw new Error(`location ${id} not defined`);
  return l;
};
const vt = (v) => ({ type: str(v.type), unit: str(v.unit) });

const out = {
  string_table_0: strings[0],
  sample_type: profile.sampleType.map(vt),
  default_sample_type: str(profile.defaultSampleType),
  period_type: profile.periodType ? vt(profile.periodType) : null,
  period: num(profile.period),
  time_nanos: num(profile.timeNanos),
  duration_nanos: num(profile.durationNanos),
  comments: profile.comment.map(str),
  function_ids: [...functions.keys()],
  location_ids: [...locations.keys()],
  mappings: [...mappings.values()],
  samples: profile.sample.map((s) => ({
    values: s.value.map(num),
    locations: s.locationId.map((id) => loc(id)),
    labels: s.label.map((l) => ({ key: str(l.key), str: str(l.str), num: num(l.num),
                                  num_unit: str(l.numUnit) })),
  })),
};
process.stdout.write(JSON.stringify(out, null, 1) + '\n');
