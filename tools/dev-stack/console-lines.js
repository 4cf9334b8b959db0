// How `npm start` and `npm run start:regions` show the services' JSON logs: one readable line
// each, prefixed with the instance's name in its own colour on a terminal.
'use strict';

const useColor = process.stdout.isTTY;
const COLORS = [31, 32, 33, 34, 35, 36, 91, 92, 93, 94, 95, 96];

function paint(text, color) {
  return useColor ? `\u001b[${color}m${text}\u001b[0m` : text;
}

/** `[name]` padded to `width`, in the i-th colour. */
function instancePrefix(name, width, i) {
  return paint(`[${name.padEnd(width)}]`, COLORS[i % COLORS.length]);
}

/** One readable line per JSON log line; anything else passes through as it is. */
function formatLine(line) {
  try {
    const entry = JSON.parse(line);
    const { level, time: _time, msg, service: _s, instance: _i, region: _r, context, req, res, responseTime, ...rest } = entry;
    const http = req ? ` ${req.method} ${req.url} -> ${res?.statusCode} ${responseTime}ms` : '';
    const extra = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
    return `${String(level).padEnd(5)} ${context ? `[${context}] ` : ''}${msg ?? ''}${http}${extra}`;
  } catch {
    return line;
  }
}

module.exports = { instancePrefix, formatLine };
