/**
 * The run object's tables: created (or migrated) by the first write, and only read when they exist.
 * A run object that stored nothing has no storage and needs no alarm; one whose tables a mere read
 * created (an unknown run id, a late callback after the run's deletion) would keep them with no alarm
 * to delete them (relay/run/alarm.ts arms none for a run that wrote nothing).
 */
import { hasTables, migrate } from './schema.ts';
import { RunStore } from './store.ts';

export class RunTables {
  private readonly storage: DurableObjectStorage;
  private readonly store: RunStore;
  /** False until the schema is in place: at start, and again once the run's storage was deleted. */
  private ready = false;

  constructor(storage: DurableObjectStorage) {
    this.storage = storage;
    this.store = new RunStore(storage.sql);
  }

  /** The run's tables, created or migrated first if needed (synchronous: no request runs in between). */
  created(): RunStore {
    if (!this.ready) {
      migrate(this.storage);
      this.ready = true;
    }
    return this.store;
  }

  /** The run's tables if it stored anything (migrated first if needed); undefined, creating nothing, if not. */
  existing(): RunStore | undefined {
    return this.ready || hasTables(this.storage.sql) ? this.created() : undefined;
  }

  /** The run's storage was deleted. */
  forget(): void {
    this.ready = false;
  }
}
