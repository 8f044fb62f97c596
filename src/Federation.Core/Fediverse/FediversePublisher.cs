using System.Text.Json.Nodes;
using Federation.Contracts.V1;
using Federation.Core.Storage;
using Federation.Domain;

namespace Federation.Core.Fediverse;

/// <summary>
/// Queues what the actor owes its followers inside the transaction of the change that
/// causes it (the transactional outbox, DESIGN.md §4): a public call-out's Create, Update
/// or Delete commits with the call-out's event, or neither does.
/// </summary>
public sealed class FediversePublisher(FediverseSite site, NodeClock clock)
{
    /// <summary>Refuses a public call-out on a node whose actor is off, before anything is written.</summary>
    public void RequireEnabled()
    {
        if (!site.Enabled)
        {
            throw RuleViolation.Invalid(
                "This node does not publish to the fediverse (Node:Fediverse:Enabled is off): publish the call-out without --public, or ask the operator to turn it on.");
        }
    }

    public void Published(IStoreTransaction tx, CallOutState state)
    {
        tx.MarkCallOutPublic(state.Id);
        ToFollowers(tx, FediverseDocuments.Create(site, state));
    }

    /// <summary>An update, close or cancel of a call-out: told to followers only if it was made public.</summary>
    public void Changed(IStoreTransaction tx, CallOutState state)
    {
        if (site.Enabled && tx.IsCallOutPublic(state.Id))
        {
            ToFollowers(tx, FediverseDocuments.Update(site, state, clock.UtcNow));
        }
    }

    /// <summary>A purge removes the post from followers' servers too.</summary>
    public void Purged(IStoreTransaction tx, string callOutId)
    {
        if (tx.UnmarkCallOutPublic(callOutId) && site.Enabled)
        {
            ToFollowers(tx, FediverseDocuments.Delete(site, callOutId, clock.UtcNow));
        }
    }

    public void Accept(IStoreTransaction tx, FediverseFollower follower, string followId)
    {
        tx.PutFediverseFollower(follower);
        Enqueue(tx, follower.Inbox, FediverseDocuments.Accept(site, followId, follower.ActorId, clock.UtcNow));
    }

    private void ToFollowers(IStoreTransaction tx, JsonObject activity)
    {
        // One copy per shared inbox: a server with a thousand followers gets one POST.
        foreach (var inbox in tx.FediverseFollowersIn().Select(f => f.DeliverTo).Distinct(StringComparer.Ordinal))
        {
            Enqueue(tx, inbox, activity);
        }
    }

    private static void Enqueue(IStoreTransaction tx, string inbox, JsonObject activity)
    {
        var uri = new Uri(inbox);
        tx.EnqueueFediverse(inbox, uri.Authority.ToLowerInvariant(), FediverseDocuments.Bytes(activity));
    }
}
