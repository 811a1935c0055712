"""Sandbox entry point (pid 1 of the sandbox's pid namespace under bwrap): forks the zygote, then runs the worker's
bookkeeping in a thread and the comparer in its main thread.

Descriptors from the host: 3 jobs (headers for the worker; payloads, which only each job's child reads), 4 the
worker's answers, 5 the judge side of each job for the comparer. The zygote (fr_zygote.py) keeps only 3. Everything
is non-dumpable before anything else happens, so no process of a job can read or write their memory; as pid 1 this
process cannot be signalled from inside the namespace at all.
"""
import json
import os
import socket
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

PR_SET_DUMPABLE = 4


def _nondumpable():
    try:
        import fr_lockdown

        fr_lockdown.set_nondumpable()
        return
    except ImportError:
        pass
    import ctypes

    if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_DUMPABLE, 0) failed")


def main():
    limits = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    _nondumpable()
    for fd in (3, 4, 5):
        os.set_inheritable(fd, True)
    comparer_end, worker_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    # Message boundaries kept: every request to the zygote and every answer is one message.
    zygote_end, worker_zygote_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    pid = os.fork()
    if pid == 0:
        # The zygote: the warm parent of every job's child. It keeps fd 3 (each child reads its payload there).
        comparer_end.close()
        worker_end.close()
        worker_zygote_end.close()
        os.close(4)
        os.close(5)
        import fr_zygote

        try:
            fr_zygote.main(limits, zygote_end)
        finally:
            os._exit(0)
    zygote_end.close()
    import threading

    import fr_comparer
    import fr_worker

    def worker():
        try:
            fr_worker.main(worker_end, worker_zygote_end, limits)
        finally:
            # A worker that stopped, for any reason, ends the sandbox: the host sees it exit and starts a new one.
            os._exit(3)

    threading.Thread(target=worker, name="worker", daemon=True).start()
    fr_comparer.main(comparer_end, 5, pid)
    # The zygote is gone (or the link broke): end the sandbox so the host starts a new one.
    os._exit(0)


if __name__ == "__main__":
    main()
