namespace Federation.Node.Delivery;

/// <summary>Bus message: deliver what is pending for one peer. A doorbell, not the data: the rows stay in the outbox.</summary>
public sealed record DeliverToPeer(string PeerId);

/// <summary>Bus message: fetch an object's missing events from its origin.</summary>
public sealed record BackfillObject(string ObjectId);

/// <summary>Bus message: pull from one peer what it shares with this node and this node lacks.</summary>
public sealed record CatchUpFromPeer(string PeerId);
