"""Run a command while other CPU-bound processes compete for the cores, as on a shared machine.

    python benchmarks/busy.py 2 -- python3 tasks.py book     # the book build beside two busy processes

Each busy process spins in pure Python for at most --seconds (default: one hour) and stops by itself;
all of them are stopped as soon as the command ends. Prints the command's wall time and the load
average before and after.
"""
import argparse
import contextlib
import os
import subprocess
import sys
import time

SPIN = "import time\nend = time.time() + {seconds}\nwhile time.time() < end:\n    sum(range(1000))\n"


@contextlib.contextmanager
def busy(processes, seconds=3600):
    """`processes` CPU-bound Python processes for the duration of the block (at most `seconds`)."""
    spinners = [subprocess.Popen([sys.executable, "-c", SPIN.format(seconds=float(seconds))])
                for _ in range(processes)]
    try:
        yield spinners
    finally:
        for spinner in spinners:
            spinner.kill()
        for spinner in spinners:
            spinner.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("processes", type=int, help="how many busy processes (e.g. 2)")
    parser.add_argument("--seconds", type=float, default=3600, help="each busy process stops after this long")
    parser.add_argument("command", nargs="*", help="-- then the command to run")
    argv = sys.argv[1:]
    split = argv.index("--") if "--" in argv else len(argv)
    args = parser.parse_args(argv[:split])          # options before "--", the command after it
    command = argv[split + 1:] or args.command
    if not command or args.processes < 0:
        parser.error("give a number of processes ≥ 0, then -- and the command")
    load = os.getloadavg()[0]
    start = time.perf_counter()
    with busy(args.processes, args.seconds):
        returncode = subprocess.run(command).returncode
    print(f"busy.py: {' '.join(command)} took {time.perf_counter() - start:.0f} s beside {args.processes} busy "
          f"processes (load average {load:.1f} before, {os.getloadavg()[0]:.1f} after); exit {returncode}")
    return returncode


if __name__ == "__main__":
    sys.exit(main())
