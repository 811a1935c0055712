// The executor against hostile code: each attack gets the right verdict, the host stays healthy, and the next job runs normally.
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Executor } from '../pipeline/sandbox/executor.ts';
import type { ExecJob } from '../pipeline/sandbox/job.ts';
import { findBwrap } from '../pipeline/sandbox/bwrap.ts';

const SECRET = 'sk-hostile-test-secret-0123456789';

function job(program: string, over: Partial<ExecJob> = {}): ExecJob {
  return { harness: 'check', program, test: 'def check(candidate):\n    assert candidate(2) == 4\n', entryPoint: 'double', timeoutS: 2, ...over };
}
const GOOD = 'def double(x):\n    return 2 * x\n';

let server: Server;
let port = 0;
let connections = 0;

beforeAll(async () => {
  // A secret in the host's environment, which candidate code must never see.
  process.env.OPENAI_API_KEY = SECRET;
  server = createServer((s) => {
    connections++;
    s.end('hello');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
});
afterAll(async () => {
  delete process.env.OPENAI_API_KEY;
  await new Promise((r) => server.close(r));
});

describe.each([['bwrap' as const], ['process' as const]])('hostile code (%s mode)', (mode) => {
  let ex: Executor;
  beforeAll(async () => {
    ex = new Executor({ mode, workers: 2, memoryMb: 512 });
    await ex.warmup();
  });
  afterAll(async () => {
    await ex.close();
  });

  it('uses the requested isolation', () => {
    expect(ex.info.mode).toBe(mode === 'bwrap' && findBwrap() === null ? 'process' : mode);
    if (mode === 'bwrap') expect(findBwrap(), 'CI installs bubblewrap').not.toBeNull();
  });

  const attacks: Array<[string, string, (r: Awaited<ReturnType<Executor['run']>>) => void, Partial<ExecJob>?]> = [
    ['an infinite loop', 'while True:\n    pass\n', (r) => expect(r.result).toBe('timed out'), { timeoutS: 1 }],
    ['sleeping past the limit', 'import time\ntime.sleep(30)\n', (r) => expect(r.result).toBe('timed out'), { timeoutS: 1 }],
    ['a loop that swallows the alarm', 'import time\nwhile True:\n    try:\n        time.sleep(10)\n    except BaseException:\n        pass\n', (r) => expect(r.result).toBe('timed out'), { timeoutS: 1 }],
    [
      'a fork bomb',
      'import posix\nkids = 0\ntry:\n    while True:\n        if posix.fork() == 0:\n            import time; time.sleep(60)\n        kids += 1\nexcept OSError as e:\n    raise RuntimeError("stopped after %d" % kids)\n',
      (r) => {
        expect(r.passed).toBe(false);
        expect(r.result).toMatch(/stopped after \d+|timed out/);
      },
    ],
    ['a memory bomb', 'blocks = []\nwhile True:\n    blocks.append(bytearray(50 * 1024 * 1024))\n', (r) => expect(r.result).toMatch(/^failed: |^timed out$/)],
    [
      '100 MB of output',
      'import sys\nchunk = "x" * 1000000 + "\\n"\nfor _ in range(100):\n    sys.stdout.write(chunk)\nsys.stdout.flush()\n' + GOOD,
      (r) => {
        expect(r.result).toBe('passed');
        expect((r.output ?? '').length).toBeLessThanOrEqual(64 * 1024);
      },
      { timeoutS: 20 },
    ],
    ['writing outside its directory', 'import builtins\nwith builtins.open("/usr/flowreasoner-evil", "w") as f:\n    f.write("x")\n' + GOOD, (r) => expect(r.result).toMatch(/^failed: .*(Read-only|Permission denied)/)],
    [
      'reading its environment',
      // Jobs are non-dumpable, so /proc/self/environ may be unreadable; os.environ must not hold the key either way.
      'import os\ntry:\n    data = open("/proc/self/environ", "rb").read()\nexcept PermissionError:\n    data = b""\nassert b"OPENAI" not in data and b"sk-" not in data, data\nassert not any("sk-" in v for v in os.environ.values())\n' + GOOD,
      (r) => expect(r.result).toBe('passed'),
    ],
    ['printing "passed" and calling sys.exit(0)', 'print("passed")\nimport sys\nsys.exit(0)\n', (r) => expect(r.result).toBe('failed: 0')],
    ['printing "passed" and calling os._exit(0)', 'print("passed")\nimport posix\nposix._exit(0)\n', (r) => expect(r.result).toBe('timed out')],
    [
      'spraying a fake verdict into every descriptor',
      'import posix, json\nfor fd in range(3, 1024):\n    try:\n        posix.write(fd, b\'\\n{"status": "pass", "result": "passed"}\\n\')\n    except OSError:\n        pass\nraise ValueError("really failed")\n',
      (r) => expect(r.result).toBe('failed: really failed'),
    ],
    ['killing its parent', 'import posix, signal\nposix.kill(posix.getppid(), signal.SIGKILL)\nimport time\ntime.sleep(5)\n', (r) => expect(r.passed).toBe(false)],
    ['raising', 'raise KeyError("boom")\n', (r) => expect(r.result).toBe("failed: 'boom'")],
  ];

  for (const [name, program, check, over] of attacks) {
    it(`contains ${name}, then runs the next job normally`, async () => {
      const r = await ex.run(job(program, over));
      check(r);
      const next = await ex.run(job(GOOD));
      expect(next.result).toBe('passed');
    });
  }

  it('keeps candidate code off the project files', async () => {
    const r = await ex.run(job(`import os\nassert not os.path.exists(${JSON.stringify(process.cwd() + '/package.json')}) or ${mode === 'process' ? 'True' : 'False'}\n` + GOOD));
    expect(r.result).toBe('passed');
  });

  it('gives no network: a socket to a server on the host fails', async () => {
    const before = connections;
    const r = await ex.run(job(`import socket\ns = socket.create_connection(("127.0.0.1", ${port}), timeout=1)\nprint(s.recv(5))\n` + GOOD));
    if (mode === 'bwrap') {
      expect(r.result).toMatch(/^failed: /);
      expect(connections).toBe(before);
    } else {
      // The plain-process fallback has no network isolation: documented, and the reason bwrap is the default.
      expect(['passed', 'timed out']).toContain(r.result);
    }
  });

  it('answers concurrent jobs in their own fresh processes', async () => {
    const program = 'import os\nopen("marker", "w").write("x")\n' + GOOD + 'assert len(os.listdir(".")) == 1\n';
    const rs = await Promise.all(Array.from({ length: 12 }, () => ex.run(job(program))));
    expect(rs.map((r) => r.result)).toEqual(Array(12).fill('passed'));
  });
});
