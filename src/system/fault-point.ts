/**
 * Test seam for the fault-injection suite (test/faults): IR_FAULT_POINT=<name>[#n] kills the process
 * (SIGKILL, as a crash or power loss would) at the n-th pass (default 1st) of that named point.
 * Unset, it costs one env lookup.
 */
const passes = new Map<string, number>()

export function faultPoint(name: string): void {
  const spec = process.env.IR_FAULT_POINT
  if (!spec) return
  const [want, nth = '1'] = spec.split('#')
  if (want !== name) return
  const n = (passes.get(name) ?? 0) + 1
  passes.set(name, n)
  if (n === Number(nth)) process.kill(process.pid, 'SIGKILL')
}
