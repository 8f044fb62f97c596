namespace Federation.Core.Storage;

/// <summary>A fediverse account following this node's actor (issue 19): where its posts go.</summary>
public sealed record FediverseFollower(string ActorId, string Inbox, string SharedInbox, DateTimeOffset Since)
{
    /// <summary>Mastodon and its kin take one copy per server at the shared inbox; an actor without one gets its own.</summary>
    public string DeliverTo => SharedInbox.Length > 0 ? SharedInbox : Inbox;
}

/// <summary>A call-out its organisers chose to publish on the fediverse, since when.</summary>
public sealed record PublicCallOutRow(string CallOutId, DateTimeOffset Since);

/// <summary>One signed POST owed to a fediverse inbox: the activity's bytes, signed when sent.</summary>
public sealed record FediverseDelivery(long Id, string Host, string Inbox, byte[] Body, int Attempts, string? LastError, DateTimeOffset CreatedAt);

/// <summary>Reads of the fediverse actor's state: followers, public call-outs, its key and its delivery queue.</summary>
public interface IFediverseReads
{
    IReadOnlyList<FediverseFollower> FediverseFollowers();

    /// <summary>Call-outs marked public, the latest first.</summary>
    IReadOnlyList<PublicCallOutRow> PublicCallOuts();

    /// <summary>The actor's RSA private key (PKCS#8 PEM), or null before it was first made.</summary>
    string? FediverseKey();

    /// <summary>
    /// The next delivery of each host whose retry time has come and that no replica holds:
    /// one in flight per host, so a host receives a call-out's Create before its Update.
    /// </summary>
    IReadOnlyList<FediverseDelivery> DueFediverseDeliveries(DateTimeOffset now, int limit);

    /// <summary>Deliveries given up on (refused for good, or failing past the retry limit), oldest first.</summary>
    IReadOnlyList<FediverseDelivery> FediverseDeadLetters();

    /// <summary>Deliveries still owed (not dead), for status and tests.</summary>
    long PendingFediverseDeliveries();
}

/// <summary>Writes of the fediverse actor's state; each commits with whatever else its transaction writes.</summary>
public interface IFediverseWrites
{
    IReadOnlyList<FediverseFollower> FediverseFollowersIn();

    void PutFediverseFollower(FediverseFollower follower);

    bool DeleteFediverseFollower(string actorId);

    void MarkCallOutPublic(string callOutId);

    bool IsCallOutPublic(string callOutId);

    bool UnmarkCallOutPublic(string callOutId);

    /// <summary>Keeps <paramref name="pem"/> unless a key is already stored (another replica's); returns the stored one.</summary>
    string PutFediverseKeyIfAbsent(string pem);

    void EnqueueFediverse(string inbox, string host, byte[] body);

    /// <summary>Takes a delivery for this process until <paramref name="until"/>, if no one else holds it.</summary>
    bool LeaseFediverseDelivery(long id, DateTimeOffset until);

    void FediverseDelivered(long id);

    void FediverseFailed(long id, DateTimeOffset nextAttempt, string error, bool dead);

    /// <summary>Stops every delivery still owed (the operator turned the actor off and deleted it). Returns how many.</summary>
    int DropFediverseDeliveries();
}
