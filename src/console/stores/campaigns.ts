/** 群发: the campaign list, one campaign as it goes, and what an operator does to them. */
import { defineStore } from 'pinia'
import { ref } from 'vue'
import type { Campaign } from '@/domain/console-contract'
import type { CampaignRequest } from '@/domain/contract'
import type { CampaignAction } from '../api'
import { useConsole } from '../context'

export const useCampaignsStore = defineStore('console-campaigns', () => {
  const list = ref<Campaign[]>([])
  const current = ref<Campaign | null>(null)

  async function loadList(): Promise<void> {
    list.value = await useConsole().api.campaigns()
  }

  async function load(id: string): Promise<Campaign> {
    const campaign = await useConsole().api.campaign(id)
    current.value = campaign
    return campaign
  }

  async function create(request: CampaignRequest): Promise<Campaign> {
    const campaign = await useConsole().api.createCampaign(request)
    current.value = campaign
    list.value = [campaign, ...list.value.filter((one) => one.id !== campaign.id)]
    return campaign
  }

  async function act(id: string, action: CampaignAction): Promise<Campaign> {
    const campaign = await useConsole().api.campaignAction(id, action)
    current.value = campaign
    return campaign
  }

  /** How many failed messages went back in the queue. */
  async function retryFailed(id: string): Promise<number> {
    const { retried } = await useConsole().api.retryCampaign(id)
    await load(id)
    return retried
  }

  return { list, current, loadList, load, create, act, retryFailed }
})
