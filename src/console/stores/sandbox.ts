/** 沙盒 (sandbox mode only): what the sandbox WeChat received, and its fault switches. */
import { defineStore } from 'pinia'
import { ref } from 'vue'
import type { FaultsRequest, FaultsState, ReceivedList } from '@/domain/console-contract'
import { useConsole } from '../context'

/** The newest received messages shown as cards. */
const SHOWN = 60

export const useSandboxStore = defineStore('console-sandbox', () => {
  const sandbox = ref<boolean | null>(null)
  const received = ref<ReceivedList>([])
  const faults = ref<FaultsState | null>(null)

  /** Whether the service runs the sandbox WeChat (GET /api/info). */
  async function detect(): Promise<boolean> {
    sandbox.value ??= (await useConsole().api.info()).sandbox
    return sandbox.value
  }

  async function load(): Promise<void> {
    if (!(await detect())) return
    const { api } = useConsole()
    const [messages, switches] = await Promise.all([api.received(SHOWN), api.faults()])
    received.value = [...messages].reverse()
    faults.value = switches
  }

  async function setFaults(change: FaultsRequest): Promise<void> {
    await useConsole().api.setFaults(change)
    faults.value = await useConsole().api.faults()
  }

  return { sandbox, received, faults, detect, load, setFaults }
})
