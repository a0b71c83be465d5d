import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import {
  LogFormatter,
  parseLogLine,
  parseTimestampNs,
  splitLines,
  tailStart,
  type LogEntry,
} from './cri-log.ts';
import { parseLogQuery, streamLog, type LogOptions, type LogSink } from './logs.ts';
import { AgentError } from './status.ts';

const T = (s: number): string => `2026-01-02T03:04:${String(s).padStart(2, '0')}.123456789Z`;
const line = (s: number, text: string, tag = 'F', stream = 'stdout'): string =>
  `${T(s)} ${stream} ${tag} ${text}\n`;
const entries = (text: string): LogEntry[] =>
  splitLines(Buffer.from(text))
    .lines.map((l) => parseLogLine(l))
    .filter((e): e is LogEntry => !!e);
const render = (
  es: LogEntry[],
  opts: ConstructorParameters<typeof LogFormatter>[0] = { timestamps: false },
): string => {
  const f = new LogFormatter(opts);
  return Buffer.concat(es.map((e) => f.format(e) ?? Buffer.alloc(0))).toString();
};

describe('CRI log lines', () => {
  test('parses the four fields; malformed lines are dropped', () => {
    const e = parseLogLine(Buffer.from(`${T(5)} stderr P part one`));
    assert.deepEqual(e && { ...e, content: e.content.toString() }, {
      timestamp: T(5),
      timeNs: 1767323045123456789n,
      stream: 'stderr',
      partial: true,
      content: 'part one',
    });
    assert.equal(parseLogLine(Buffer.from(`${T(5)} stdout F `))?.content.length, 0);
    assert.equal(parseLogLine(Buffer.from('garbage')), undefined);
    assert.equal(parseLogLine(Buffer.from(`${T(5)} other F x`)), undefined);
    assert.equal(parseLogLine(Buffer.from(`not-a-time stdout F x`)), undefined);
    assert.equal(parseTimestampNs('2026-01-02T03:04:05+01:00'), 1767319445000000000n);
  });

  test('partial pieces are joined; timestamps only at line starts', () => {
    const es = entries(line(1, 'a') + line(2, 'long-', 'P') + line(3, 'line') + line(4, 'b', 'F', 'stderr'));
    assert.equal(render(es), 'a\nlong-line\nb\n');
    assert.equal(render(es, { timestamps: true }), `${T(1)} a\n${T(2)} long-line\n${T(4)} b\n`);
  });

  test('tail counts joined lines', () => {
    const es = entries(line(1, 'a') + line(2, 'b-', 'P') + line(3, 'c') + line(4, 'd'));
    assert.equal(render(es.slice(tailStart(es, 1))), 'd\n');
    assert.equal(render(es.slice(tailStart(es, 2))), 'b-c\nd\n');
    assert.equal(render(es.slice(tailStart(es, 3))), 'a\nb-c\nd\n');
    assert.equal(render(es.slice(tailStart(es, 10))), 'a\nb-c\nd\n');
    assert.equal(render(es.slice(tailStart(es, 0))), '');
  });

  test('since filters entries; limitBytes cuts the output', () => {
    const es = entries(line(1, 'one') + line(2, 'two') + line(3, 'three'));
    assert.equal(render(es, { timestamps: false, sinceNs: parseTimestampNs(T(2))! }), 'two\nthree\n');
    assert.equal(render(es, { timestamps: false, limitBytes: 6 }), 'one\ntw');
  });

  test('query parsing', () => {
    const q = (s: string): LogOptions => parseLogQuery(new URLSearchParams(s), 1_000_000);
    assert.deepEqual(q('follow=true&timestamps=1&tailLines=5&limitBytes=10'), {
      follow: true,
      previous: false,
      timestamps: true,
      tailLines: 5,
      limitBytes: 10,
    });
    assert.equal(q('sinceSeconds=10').sinceNs, 990_000n * 1_000_000n);
    assert.equal(q(`sinceTime=${T(2)}`).sinceNs, parseTimestampNs(T(2)));
    for (const bad of [
      'tailLines=-1',
      'limitBytes=0',
      'sinceSeconds=x',
      'sinceTime=yesterday',
      `sinceSeconds=5&sinceTime=${T(1)}`,
    ])
      assert.throws(
        () => q(bad),
        (e: unknown) => e instanceof AgentError && e.code === 400,
        bad,
      );
  });
});

describe('streamLog on files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-logs-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const base: LogOptions = { follow: false, previous: false, timestamps: false };
  const collect = (): LogSink & { text: () => string; leave: () => void } => {
    const parts: Buffer[] = [];
    let closed = false;
    let leave = (): void => undefined;
    const gone = new Promise<void>((r) => (leave = r));
    return {
      get closed() {
        return closed;
      },
      gone,
      write: (b) => {
        parts.push(b);
        return Promise.resolve();
      },
      text: () => Buffer.concat(parts).toString(),
      leave: () => {
        closed = true;
        leave();
      },
    };
  };

  test('reads a whole file with tail; a missing file is empty', async () => {
    const path = join(dir, 'a.log');
    writeFileSync(path, line(1, 'x') + line(2, 'y') + line(3, 'z'));
    const s = collect();
    await streamLog({ path, finished: () => Promise.resolve(true) }, { ...base, tailLines: 2 }, s);
    assert.equal(s.text(), 'y\nz\n');
    const m = collect();
    await streamLog({ path: join(dir, 'none.log'), finished: () => Promise.resolve(true) }, base, m);
    assert.equal(m.text(), '');
  });

  test('follow: new lines (also a line written in two pieces), rotation, end when the container has exited', async () => {
    const path = join(dir, 'b.log');
    writeFileSync(path, line(1, 'first'));
    let finished = false;
    const s = collect();
    const done = streamLog(
      { path, finished: () => Promise.resolve(finished) },
      { ...base, follow: true },
      s,
      50,
    );
    const until = async (text: string): Promise<void> => {
      for (let i = 0; i < 200 && s.text() !== text; i++) await new Promise((r) => setTimeout(r, 20));
      assert.equal(s.text(), text);
    };
    await until('first\n');
    appendFileSync(path, line(2, 'second').slice(0, 10));
    await new Promise((r) => setTimeout(r, 150));
    appendFileSync(path, line(2, 'second').slice(10));
    await until('first\nsecond\n');
    // The runtime reopens its log: the old file is renamed away and a new one starts.
    renameSync(path, `${path}.1`);
    writeFileSync(path, line(3, 'after-rotation'));
    await until('first\nsecond\nafter-rotation\n');
    appendFileSync(path, line(4, 'last'));
    finished = true;
    await done;
    assert.equal(s.text(), 'first\nsecond\nafter-rotation\nlast\n');
  });

  test('follow ends when the client goes away, and at limitBytes', async () => {
    const path = join(dir, 'c.log');
    writeFileSync(path, line(1, 'abc'));
    const s = collect();
    const done = streamLog(
      { path, finished: () => Promise.resolve(false) },
      { ...base, follow: true },
      s,
      50,
    );
    await new Promise((r) => setTimeout(r, 100));
    s.leave();
    await done;
    assert.equal(s.text(), 'abc\n');
    const l = collect();
    const limited = streamLog(
      { path, finished: () => Promise.resolve(false) },
      { ...base, follow: true, limitBytes: 6 },
      l,
      50,
    );
    appendFileSync(path, line(2, 'defgh'));
    await limited;
    assert.equal(l.text(), 'abc\nde');
  });
});
