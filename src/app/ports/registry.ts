// The registry tables as the use cases see them: operators, merchants, terminals, citizens and
// cards (implemented by adapters/postgres/registry.ts). Money never moves here.

export interface OperatorRow {
  operatorId: string;
  name: string;
  mode: 'bus' | 'metro' | 'taxi';
  commissionRate: string;
}

export interface MerchantRow {
  merchantId: string;
  name: string;
  category: 'retail' | 'medical';
  mcc: string;
  commissionRate: string;
}

export interface TerminalRow {
  terminalId: string;
  kind: 'bus' | 'gate' | 'taxi' | 'pos' | 'kiosk';
  operatorId: string | null;
  merchantId: string | null;
  routeId: string | null;
  stationId: string | null;
  status: 'active' | 'disabled' | 'blocked';
  keysEnc: Buffer;
  merchantCategory: 'retail' | 'medical' | null;
}

export interface CardRow {
  cardNo: string;
  citizenId: bigint;
  cardType: 'adult' | 'student' | 'senior' | 'disabled';
  status: 'active' | 'lost' | 'blocked';
  expiresOn: string;
  pinHash: string | null;
  pinFailures: number;
  pinLockedUntil: Date | null;
  replacedBy: string | null;
}

export type Upsert = 'created' | 'same' | 'different';

export interface NewCard {
  cardNo: string;
  citizenId: bigint;
  cardType: CardRow['cardType'];
  expiresOn: string;
  pinHash: string | null;
}

export interface CitizenRecord {
  citizenId: bigint;
  name: string;
  idMasked: string;
  insured: boolean;
}

export interface RegistryStore {
  /** Inserts, or reports whether the existing row has the same content (idempotent admin calls). */
  upsertOperator(op: OperatorRow): Promise<Upsert>;
  upsertMerchant(m: MerchantRow): Promise<Upsert>;
  operator(operatorId: string): Promise<OperatorRow | null>;
  merchant(merchantId: string): Promise<MerchantRow | null>;
  insertTerminal(t: Omit<TerminalRow, 'status' | 'merchantCategory'>, apiKeyHash: Buffer): Promise<boolean>;
  terminalByKeyHash(hash: Buffer): Promise<TerminalRow | null>;
  terminal(terminalId: string): Promise<TerminalRow | null>;
  updateTerminalKeys(terminalId: string, keysEnc: Buffer): Promise<void>;
  insertCitizen(c: { name: string; idHmac: Buffer; idEnc: Buffer; idMasked: string; insured: boolean }): Promise<{ citizenId: bigint; created: boolean }>;
  citizen(citizenId: bigint): Promise<CitizenRecord | null>;
  nextCardSerial(): Promise<bigint>;
  insertCard(c: NewCard): Promise<void>;
  insertReplacement(oldCardNo: string, c: NewCard): Promise<void>;
  card(cardNo: string): Promise<CardRow | null>;
  setCardStatus(cardNo: string, status: CardRow['status']): Promise<boolean>;
  setPinState(cardNo: string, failures: number, lockedUntil: Date | null): Promise<void>;
  balances(cardNo: string): Promise<{ purse: bigint; medical: bigint }>;
}
