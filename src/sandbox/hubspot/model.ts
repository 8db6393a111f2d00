// Plain data shapes of a portal's state. Everything here is JSON-serialisable (snapshot/restore)
// except the Maps, which `portal.ts` converts.

export interface HistoryEntry {
  value: string;
  timestamp: number;
  sourceType: string;
  sourceId?: string;
  updatedByUserId?: number;
}

export interface CrmRecord {
  id: string;
  /** Set values only; an unset or cleared property is absent. */
  props: Record<string, string>;
  createdAt: number;
  updatedAt: number;
  archived: boolean;
  archivedAt?: number;
  /** Newest first, per property. */
  history: Record<string, HistoryEntry[]>;
}

export interface OptionDef {
  label: string;
  value: string;
  description?: string;
  displayOrder: number;
  hidden: boolean;
}

export type PropertyType = 'string' | 'number' | 'date' | 'datetime' | 'enumeration' | 'bool' | 'phone_number';

export interface PropertyDef {
  name: string;
  label: string;
  type: PropertyType;
  fieldType: string;
  description: string;
  groupName: string;
  options: OptionDef[];
  displayOrder: number;
  hasUniqueValue: boolean;
  hidden: boolean;
  hubspotDefined: boolean;
  calculated: boolean;
  externalOptions: boolean;
  formField: boolean;
  readOnlyValue: boolean;
  readOnlyDefinition: boolean;
  archivable: boolean;
  createdAt: number;
  updatedAt: number;
  archived: boolean;
  archivedAt?: number;
}

export interface GroupDef {
  name: string;
  label: string;
  displayOrder: number;
  archived: boolean;
}

export interface TeamRef {
  id: string;
  name: string;
  primary: boolean;
}

export interface OwnerDef {
  id: string;
  email: string;
  firstName: string;
  lastName: string;
  userId: number;
  teams: TeamRef[];
  archived: boolean;
  createdAt: number;
  updatedAt: number;
}

export interface StageDef {
  id: string;
  label: string;
  displayOrder: number;
  isClosed: boolean;
  /** As HubSpot writes it in `metadata.probability`: "0.2", "1.0", "0.0". */
  probability: string;
  createdAt: number;
  updatedAt: number;
  archived: boolean;
}

export interface PipelineDef {
  id: string;
  label: string;
  displayOrder: number;
  stages: StageDef[];
  createdAt: number;
  updatedAt: number;
  archived: boolean;
}

/** Who made a change: the integration (an API call with the app's token) or a person in the UI. */
export type Actor = { kind: 'integration' } | { kind: 'user'; userId: number };

export interface WebhookEvent {
  eventId: number;
  subscriptionId: number;
  portalId: number;
  appId: number;
  occurredAt: number;
  subscriptionType: string;
  objectId?: number;
  propertyName?: string;
  propertyValue?: string;
  changeFlag?: string;
  changeSource: string;
  sourceId: string;
  associationType?: string;
  fromObjectId?: number;
  toObjectId?: number;
  associationRemoved?: boolean;
  isPrimaryAssociation?: boolean;
  primaryObjectId?: number;
  mergedObjectIds?: number[];
  newObjectId?: number;
  numberOfPropertiesMoved?: number;
}

export interface DeliveryLogEntry {
  deliveryId: number;
  batchId: number;
  attemptNumber: number;
  duplicate: boolean;
  url: string;
  startedAt: number;
  finishedAt: number;
  status: number | null;
  error?: string;
  outcome: 'delivered' | 'failed' | 'gave_up';
  eventIds: number[];
  events: Array<Record<string, unknown>>;
}
