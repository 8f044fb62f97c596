using Federation.Core.Sealing;
using Federation.Core.Storage;

namespace Federation.Core.Commands;

/// <summary>What an operator does with the storage key (issue 24): set it, unlock, lock, change its passphrase.</summary>
public sealed class StorageLock(IFederationStore store, StorageVault vault)
{
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
        return await SealInPlaceAsync(ct);
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
        if (details.Count + reports.Count == 0)
        {
            return 0;
        }
        var sealedDetails = details.Select(v => (v, Sealed: vault.Seal(v.Value))).ToList();
        var sealedReports = reports.Select(v => (v, Sealed: vault.Seal(v.Value))).ToList();
        var count = await store.WriteAsync(tx =>
            sealedDetails.Count(d => tx.SealLocalDetails(d.v.Key, d.v.Value, d.Sealed))
            + sealedReports.Count(r => tx.SealReport(r.v.Key, r.v.Value, r.Sealed)), ct);
        await store.CheckpointAsync();
        return count;
    }
}
