using Federation.Contracts.V1;
using Federation.Core.Delivery;
using Federation.Core.Log;
using Federation.Core.Sealing;
using Federation.Core.Storage;
using Federation.Domain;

namespace Federation.Core.Commands;

/// <summary>What an operator does with the storage key (issue 24): set it, unlock, lock, change its passphrase.</summary>
public sealed class StorageLock(IFederationStore store, StorageVault vault, OutboxSignal outbox)
{
    /// <summary>What a participants-only event set aside by a locked node's delivery waits for (docs/adr/0025).</summary>
    public const string WaitsForUnlock = "unlock";

    /// <summary>Sets the storage key up (<paramref name="create"/>) or unlocks it, then seals what was stored in clear before. Returns how many values it sealed.</summary>
    public async Task<int> UnlockAsync(string passphrase, bool create, CancellationToken ct)
    {
        if (create)
        {
            vault.Create(passphrase);
        }
        else
        {
            vault.Unlock(passphrase);
        }
        var sealedNow = await SealInPlaceAsync(ct);
        await SendWhatWaitedAsync(ct);
        return sealedNow;
    }

    /// <summary>The participants-only events a locked node set aside go back in their peers' queues, in their order.</summary>
    private async Task SendWhatWaitedAsync(CancellationToken ct)
    {
        var waited = store.ListDeadLetters().Where(d => d.WaitsFor == WaitsForUnlock).OrderBy(d => d.Id).Select(d => d.Id).ToList();
        if (waited.Count > 0 && await store.WriteAsync(tx => tx.ReplayDeadLetters(waited), ct) > 0)
        {
            outbox.Poke();
        }
    }

    /// <summary>
    /// The passphrase is lost: the network key's holder agreed <paramref name="wrapKey"/> for the
    /// recovery wrap (docs/adr/0026); the key is wrapped under <paramref name="newPassphrase"/>
    /// and the node is unlocked, as by <see cref="UnlockAsync"/>.
    /// </summary>
    public async Task<int> RecoverAsync(byte[] ephemeralPublicKey, byte[] wrapKey, string newPassphrase, CancellationToken ct)
    {
        vault.Recover(ephemeralPublicKey, wrapKey, newPassphrase);
        var sealedNow = await SealInPlaceAsync(ct);
        await SendWhatWaitedAsync(ct);
        return sealedNow;
    }

    public Task<int> ChangePassphraseAsync(string current, string next, CancellationToken ct)
    {
        vault.ChangePassphrase(current, next);
        return SealInPlaceAsync(ct);
    }

    /// <summary>The panic lock. Texts already read may linger in the managed heap until it is reused (docs/security.md).</summary>
    public void Lock() => vault.Lock();

    /// <summary>
    /// Seals every local detail and report still in clear (stored before the key was set,
    /// or by a release before sealing). Each value is swapped only if it is unchanged, so a
    /// write racing this one wins, and a crash part-way leaves the rest for the next run.
    /// The engine then lets go of the clear pages (SQLite: secure_delete and a checkpoint).
    /// </summary>
    public async Task<int> SealInPlaceAsync(CancellationToken ct)
    {
        if (!vault.HasKey)
        {
            return 0;
        }
        var details = store.AllLocalDetails().Where(v => !StorageVault.IsSealed(v.Value)).ToList();
        var reports = store.AllReports().Where(v => !StorageVault.IsSealed(v.Value)).ToList();
        var count = 0;
        if (details.Count + reports.Count > 0)
        {
            var sealedDetails = details.Select(v => (v, Sealed: vault.Seal(v.Value))).ToList();
            var sealedReports = reports.Select(v => (v, Sealed: vault.Seal(v.Value))).ToList();
            count += await store.WriteAsync(tx =>
                sealedDetails.Count(d => tx.SealLocalDetails(d.v.Key, d.v.Value, d.Sealed))
                + sealedReports.Count(r => tx.SealReport(r.v.Key, r.v.Value, r.Sealed)), ct);
        }
        foreach (var log in store.ListObjects(ObjectKind.Briefings))
        {
            count += await SealLogAsync(log, ct);
        }
        count += await SealWaitingSubmissionsAsync(ct);
        if (count > 0)
        {
            await store.CheckpointAsync();
        }
        return count;
    }

    /// <summary>
    /// Seals in place this node's own submissions that wait in its outbox or dead letters in
    /// clear and should not (a referral, an unshared report-back, a participants-only action:
    /// <see cref="EventTiers.SealedAtRest(SubmissionPayload, BriefingsState?)"/>), queued before this release.
    /// </summary>
    private async Task<int> SealWaitingSubmissionsAsync(CancellationToken ct)
    {
        var toSeal = store.WaitingSubmissions().Where(w => !StorageVault.IsSealed(w.Body) && ShouldSeal(w)).Select(w => (Waiting: w, Sealed: vault.Seal(w.Body))).ToList();
        return toSeal.Count == 0 ? 0 : await store.WriteAsync(tx => toSeal.Count(w => tx.SealWaitingSubmission(w.Waiting, w.Sealed)), ct);
    }

    private bool ShouldSeal(WaitingSubmission waiting)
    {
        try
        {
            var submission = SubmissionPayload.Parser.ParseFrom(SignedSubmission.Parser.ParseFrom(waiting.Body).Payload);
            var participants = Fights.IsAction(submission) ? store.Read(Briefings.IdOf(waiting.ObjectId), ObjectKind.Briefings, BriefingsState.Parser) : null;
            return EventTiers.SealedAtRest(submission, participants);
        }
        catch (Exception e) when (e is RuleViolation or Google.Protobuf.InvalidProtocolBufferException)
        {
            // A row this release cannot judge is sealed: the safe side. Delivery opens it whole, and sends or parks it as before.
            return true;
        }
    }

    /// <summary>
    /// Seals one participants-only log in place (docs/adr/0025), in one transaction: each of
    /// its events' payloads still in clear, and its state, replaced by its skeleton. Each swap
    /// happens only if the value is as read; one that changed meanwhile was written sealed.
    /// </summary>
    private async Task<int> SealLogAsync(StoredObject log, CancellationToken ct)
    {
        var skeleton = SealedLogs.ForDisk(log).State;
        var clearEvents = new List<(ulong Sequence, byte[] Clear, byte[] Sealed)>();
        for (ulong after = 0; after < log.LastSequence;)
        {
            var events = store.LoadEvents(log.ObjectId, after, 500);
            if (events.Count == 0)
            {
                break;
            }
            clearEvents.AddRange(events.Where(e => !StorageVault.IsSealed(e.Payload)).Select(e => (e.Sequence, e.Payload, vault.Seal(e.Payload))));
            after = events[^1].Sequence;
        }
        var stateInClear = !skeleton.AsSpan().SequenceEqual(log.State);
        if (clearEvents.Count == 0 && !stateInClear)
        {
            return 0;
        }
        return await store.WriteAsync(tx =>
            clearEvents.Count(e => tx.SealEvent(log.ObjectId, e.Sequence, e.Clear, e.Sealed))
            + (stateInClear && tx.SealObjectState(log.ObjectId, log.State, skeleton) ? 1 : 0), ct);
    }
}
