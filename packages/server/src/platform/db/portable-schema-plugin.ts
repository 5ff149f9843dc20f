import {
  OperationNodeTransformer,
  type ColumnDefinitionNode,
  type KyselyPlugin,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type QueryResult,
  type RootOperationNode,
  type UnknownRow,
  type QueryId,
} from 'kysely';

/**
 * SQLite, for historical reasons, lets a non-integer PRIMARY KEY column hold NULL;
 * PostgreSQL does not. Migrations run through this plugin so every primary key is NOT NULL
 * on both, without each module having to remember it.
 */
class PrimaryKeyNotNull extends OperationNodeTransformer {
  protected override transformColumnDefinition(node: ColumnDefinitionNode, queryId?: QueryId): ColumnDefinitionNode {
    const transformed = super.transformColumnDefinition(node, queryId);
    return transformed.primaryKey && !transformed.notNull ? { ...transformed, notNull: true } : transformed;
  }
}

export class PortableSchemaPlugin implements KyselyPlugin {
  readonly #transformer = new PrimaryKeyNotNull();

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return this.#transformer.transformNode(args.node, args.queryId);
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result;
  }
}
