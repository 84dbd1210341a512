// The entity map of one unified-format test: clients (with command monitoring), databases,
// collections, sessions, change streams and cursors, plus values saved with saveResultAsEntity.
import {
  BSON,
  ChangeStream,
  ClientSession,
  Collection,
  Db,
  MongoClient,
  ReadConcern,
  ReadPreference,
  WriteConcern,
  type AbstractCursor,
  type CommandFailedEvent,
  type CommandStartedEvent,
  type CommandSucceededEvent,
  type Document,
  type MongoClientOptions,
  type ReadPreferenceMode,
} from 'mongodb';

export type ObservedEventType = 'commandStartedEvent' | 'commandSucceededEvent' | 'commandFailedEvent';

export interface ObservedEvent {
  type: ObservedEventType;
  commandName: string;
  databaseName: string;
  command?: Document;
  reply?: Document;
  failure?: unknown;
}

/** Commands the command-monitoring spec treats as sensitive (redacted, not reported to tests). */
const SENSITIVE_COMMANDS = new Set([
  'authenticate',
  'saslstart',
  'saslcontinue',
  'getnonce',
  'createuser',
  'updateuser',
  'copydbgetnonce',
  'copydbsaslstart',
  'copydb',
]);

/** Re-encodes a driver document so that numeric types are exact (Int32, Long, Double). */
export function exactCopy(value: unknown): Document | undefined {
  if (value === undefined || value === null) return undefined;
  const withToObject = value as { toObject?: (options: Document) => Document };
  const doc =
    typeof withToObject.toObject === 'function' && !(value instanceof Map)
      ? withToObject.toObject({ promoteValues: false, promoteLongs: false })
      : (value as Document);
  return BSON.deserialize(BSON.serialize(doc), { promoteValues: false, promoteLongs: false });
}

export class ClientEntity {
  readonly events: ObservedEvent[] = [];
  /** Set while the runner itself issues commands (configureFailPoint) that must not be observed. */
  private suppressed = 0;

  constructor(
    readonly client: MongoClient,
    private readonly observe: Set<string>,
    private readonly ignore: Set<string>,
    private readonly observeSensitive: boolean,
  ) {
    client.on('commandStarted', (event: CommandStartedEvent) =>
      this.record({
        type: 'commandStartedEvent',
        commandName: event.commandName,
        databaseName: event.databaseName,
        command: exactCopy(event.command),
      }),
    );
    client.on('commandSucceeded', (event: CommandSucceededEvent) =>
      this.record({
        type: 'commandSucceededEvent',
        commandName: event.commandName,
        databaseName: event.databaseName,
        reply: exactCopy(event.reply),
      }),
    );
    client.on('commandFailed', (event: CommandFailedEvent) =>
      this.record({
        type: 'commandFailedEvent',
        commandName: event.commandName,
        databaseName: event.databaseName,
        failure: event.failure,
      }),
    );
  }

  static create(uri: string, spec: Document): ClientEntity {
    const options: MongoClientOptions = { monitorCommands: true, serverSelectionTimeoutMS: 5000 };
    const uriOptions = (spec.uriOptions as Document | undefined) ?? {};
    for (const [key, value] of Object.entries(uriOptions)) (options as Document)[key] = value;
    if (options.heartbeatFrequencyMS === undefined) options.heartbeatFrequencyMS = 500;
    if (spec.serverApi) options.serverApi = spec.serverApi as MongoClientOptions['serverApi'];
    return new ClientEntity(
      new MongoClient(uri, options),
      new Set((spec.observeEvents as string[] | undefined) ?? []),
      new Set(
        ((spec.ignoreCommandMonitoringEvents as string[] | undefined) ?? []).map((n) => n.toLowerCase()),
      ),
      spec.observeSensitiveCommands === true,
    );
  }

  async unobserved<T>(fn: () => Promise<T>): Promise<T> {
    this.suppressed++;
    try {
      return await fn();
    } finally {
      this.suppressed--;
    }
  }

  private record(event: ObservedEvent): void {
    if (this.suppressed > 0 || !this.observe.has(event.type)) return;
    const name = event.commandName.toLowerCase();
    if (name === 'configurefailpoint' || this.ignore.has(name)) return;
    if (!this.observeSensitive) {
      if (SENSITIVE_COMMANDS.has(name)) return;
      const redacted =
        (event.command && Object.keys(event.command).length === 0) ||
        (event.reply && Object.keys(event.reply).length === 0);
      if ((name === 'hello' || name === 'ismaster') && redacted) return;
    }
    this.events.push(event);
  }
}

function readPreferenceOf(spec: Document): ReadPreference {
  return new ReadPreference(
    spec.mode as ReadPreferenceMode,
    spec.tagSets as Document[] | undefined,
    spec.maxStalenessSeconds !== undefined
      ? { maxStalenessSeconds: spec.maxStalenessSeconds as number }
      : undefined,
  );
}

/** Converts the format's collectionOrDatabaseOptions and common options to driver objects. */
export function driverOptions(spec: Document | undefined): Document {
  const out: Document = {};
  for (const [key, value] of Object.entries(spec ?? {})) {
    if (key === 'readConcern') out.readConcern = new ReadConcern((value as Document).level as 'local');
    else if (key === 'readPreference') out.readPreference = readPreferenceOf(value as Document);
    else if (key === 'writeConcern')
      out.writeConcern = WriteConcern.fromOptions({ writeConcern: value as Document });
    else out[key] = value;
  }
  return out;
}

export type Entity =
  | ClientEntity
  | Db
  | Collection
  | ClientSession
  | ChangeStream
  | AbstractCursor
  | Document
  | unknown[]
  | string
  | number
  | boolean;

export class EntityMap {
  private readonly map = new Map<string, unknown>();
  /** The client entity each session entity was started from. */
  private readonly sessionClients = new Map<string, string>();

  constructor(private readonly uri: string) {}

  get(name: string): unknown {
    if (!this.map.has(name)) throw new Error(`undefined entity ${name}`);
    return this.map.get(name);
  }

  has(name: string): boolean {
    return this.map.has(name);
  }

  set(name: string, value: unknown): void {
    if (this.map.has(name)) throw new Error(`duplicate entity ${name}`);
    this.map.set(name, value);
  }

  client(name: string): ClientEntity {
    const value = this.get(name);
    if (!(value instanceof ClientEntity)) throw new Error(`entity ${name} is not a client`);
    return value;
  }

  db(name: string): Db {
    const value = this.get(name);
    if (!(value instanceof Db)) throw new Error(`entity ${name} is not a database`);
    return value;
  }

  session(name: string): ClientSession {
    const value = this.get(name);
    if (!(value instanceof ClientSession)) throw new Error(`entity ${name} is not a session`);
    return value;
  }

  /** The client entity a session entity was started from. */
  clientOfSession(name: string): ClientEntity {
    this.session(name);
    return this.client(this.sessionClients.get(name) as string);
  }

  clients(): [string, ClientEntity][] {
    return [...this.map.entries()].filter((e): e is [string, ClientEntity] => e[1] instanceof ClientEntity);
  }

  /** Lookup used by the matcher: sessions answer `$$sessionLsid` with their lsid. */
  lookup(): { get(name: string): unknown } {
    return {
      get: (name: string) => {
        const value = this.get(name);
        return value instanceof ClientSession ? { id: value.id } : value;
      },
    };
  }

  create(entities: Document[]): void {
    for (const entity of entities) {
      const [kind] = Object.keys(entity);
      const spec = entity[kind] as Document;
      const id = spec.id as string;
      switch (kind) {
        case 'client':
          this.set(id, ClientEntity.create(this.uri, spec));
          break;
        case 'database':
          this.set(
            id,
            this.client(spec.client as string).client.db(
              spec.databaseName as string,
              driverOptions(spec.databaseOptions as Document | undefined),
            ),
          );
          break;
        case 'collection':
          this.set(
            id,
            this.db(spec.database as string).collection(
              spec.collectionName as string,
              driverOptions(spec.collectionOptions as Document | undefined),
            ),
          );
          break;
        case 'session': {
          const { snapshotTime, ...options } = (spec.sessionOptions as Document | undefined) ?? {};
          const sessionOptions: Document = { ...options };
          if (options.defaultTransactionOptions)
            sessionOptions.defaultTransactionOptions = driverOptions(
              options.defaultTransactionOptions as Document,
            );
          const session = this.client(spec.client as string).client.startSession(sessionOptions);
          // `snapshotTime` names an entity holding the time; the Node driver has no such session
          // option, so the snapshot session starts from that time as if it had read there.
          if (snapshotTime !== undefined)
            (session as unknown as { snapshotTime: unknown }).snapshotTime = this.get(snapshotTime as string);
          this.set(id, session);
          this.sessionClients.set(id, spec.client as string);
          break;
        }
        default:
          throw new UnsupportedFeature(`entity type ${kind}`);
      }
    }
  }

  /** Ends sessions, closes cursors and change streams, then closes clients. */
  async close(): Promise<void> {
    for (const value of this.map.values()) {
      try {
        if (value instanceof ChangeStream) await value.close();
        else if (value instanceof ClientSession) await value.endSession();
        else if (
          value &&
          typeof (value as AbstractCursor).close === 'function' &&
          !(value instanceof ClientEntity)
        )
          await (value as AbstractCursor).close();
      } catch {
        // cleanup errors are irrelevant to the test outcome
      }
    }
    for (const [, entity] of this.clients()) await entity.client.close().catch(() => undefined);
    this.map.clear();
    this.sessionClients.clear();
  }
}

/** Raised for a feature of the format this runner does not implement (reported as a failure). */
export class UnsupportedFeature extends Error {}
