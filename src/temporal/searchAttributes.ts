// The sync's search attributes on a Temporal namespace: registered when missing and allowed (a
// dev server or a self-hosted cluster), else reported with the command that registers them.
import type { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { SEARCH_ATTRIBUTES } from '../workflows/messages';

const KEYWORD = temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD;
export const SEARCH_ATTRIBUTE_NAMES = Object.values(SEARCH_ATTRIBUTES).map((key) => key.name);

/** The dev server's flags registering them at start. */
export function devServerSearchAttributeArgs(): string[] {
  return SEARCH_ATTRIBUTE_NAMES.flatMap((name) => ['--search-attribute', `${name}=Keyword`]);
}

export type SearchAttributeStatus = { registered: true } | { registered: false; reason: string };

/** Whether the namespace has them, registering the missing ones when the server lets this client. */
export async function ensureSearchAttributes(
  connection: Connection,
  namespace: string,
): Promise<SearchAttributeStatus> {
  try {
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
    const missing = SEARCH_ATTRIBUTE_NAMES.filter((name) => !(name in (customAttributes ?? {})));
    if (missing.length === 0) return { registered: true };
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map((name) => [name, KEYWORD])),
    });
    return { registered: true };
  } catch (err) {
    const commands = SEARCH_ATTRIBUTE_NAMES.map(
      (name) =>
        `temporal operator search-attribute create --namespace ${namespace} --name ${name} --type Keyword`,
    ).join('; ');
    return {
      registered: false,
      reason: `${(err as Error).message}; register them with: ${commands} (then restart the service)`,
    };
  }
}
