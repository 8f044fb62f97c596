namespace Federation.Core.Storage;

/// <summary>
/// The node's database: the source of truth. Every write goes through
/// <see cref="WriteAsync{T}"/>, one transaction each, so a state change and the outbox
/// rows it must send commit together or not at all. Reads see committed data only.
/// Made of one role interface per concern (objects, delivery, peers, tokens, audit,
/// call-outs, replicas), so a caller can ask for just the role it needs. Implemented once
/// for both engines (Federation.Storage's SqlStore, SQLite and PostgreSQL); the rest of
/// the node sees only these interfaces.
/// </summary>
public interface IFederationStore
    : IObjectReads, IDeliveryReads, IPeerReads, ITokenReads, IAuditReads, ICallOutReads, IReplicaReads, IFediverseReads, IRelayReads, IDisposable
{
    /// <summary>Where the data is, for the start-up banner (never a password).</summary>
    string Description { get; }

    /// <summary>
    /// Runs <paramref name="work"/> in one transaction and commits it. An engine that lets
    /// several writers run at once (PostgreSQL, shared by replicas) may run
    /// <paramref name="work"/> again after a conflict, so it must not have effects outside
    /// the transaction.
    /// </summary>
    Task<T> WriteAsync<T>(Func<IStoreTransaction, T> work, CancellationToken ct = default);

    /// <summary>After a purge: make the engine let go of old copies of purged content it still keeps on disk.</summary>
    Task CheckpointAsync();

    /// <summary>Forgets the envelopes built for delivery: after events were signed again (issue 16 #3), the next delivery reads them anew.</summary>
    void ForgetBuiltEnvelopes();

    /// <summary>Counts rows in a table; for tests and diagnostics.</summary>
    long Count(string table);
}

/// <summary>The operations one write transaction may perform: every write role together.</summary>
public interface IStoreTransaction
    : IObjectWrites, IDeliveryWrites, IPeerWrites, ITokenWrites, IAuditWrites, ICallOutWrites, IReplicaWrites, IFediverseWrites, IRelayWrites;
