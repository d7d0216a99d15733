/**
 * CPU time of the machine's processes, from /proc (Linux): what a benchmark charges to each process it
 * started (the service instances, the sandbox, PostgreSQL, redis-server), independent of the rate,
 * which other work on a shared machine moves far more.
 */
import { readdirSync, readFileSync } from 'node:fs'

/** USER_HZ: the unit of /proc/PID/stat's times. */
const CLOCK_TICKS = 100

export interface ProcessCpu {
  pid: number
  ppid: number
  /** User + system time, in seconds, of the process itself. */
  ownSeconds: number
  /** User + system time, in seconds, of its children that it has waited for. */
  childrenSeconds: number
  /** Its command line, the arguments joined by spaces (a PostgreSQL backend's process title). */
  command: string
}

/** Every process now (those that end while they are read are left out). */
export function processes(): ProcessCpu[] {
  const all: ProcessCpu[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      // After the command's closing parenthesis: state, ppid, … utime (14th field), stime, cutime, cstime.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      const command = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ')
      all.push({
        pid: Number(entry),
        ppid: Number(fields[1]),
        ownSeconds: (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS,
        childrenSeconds: (Number(fields[13]) + Number(fields[14])) / CLOCK_TICKS,
        command,
      })
    } catch {
      // gone meanwhile
    }
  }
  return all
}

/** The CPU seconds of each group: its root processes and all their descendants, each with the children it waited for. */
export function cpuOfGroups(roots: Record<string, (process: ProcessCpu) => boolean>): Record<string, number> {
  const all = processes()
  const children = new Map<number, ProcessCpu[]>()
  for (const process of all) {
    const siblings = children.get(process.ppid)
    if (siblings) siblings.push(process)
    else children.set(process.ppid, [process])
  }
  const result: Record<string, number> = {}
  for (const [name, isRoot] of Object.entries(roots)) {
    let seconds = 0
    const stack = all.filter(isRoot)
    while (stack.length > 0) {
      const process = stack.pop()!
      seconds += process.ownSeconds + process.childrenSeconds
      stack.push(...(children.get(process.pid) ?? []))
    }
    result[name] = seconds
  }
  return result
}
