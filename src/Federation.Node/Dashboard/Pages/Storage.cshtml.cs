using Federation.Contracts.V1;
using Federation.Core.Commands;
using Federation.Core.Sealing;
using Microsoft.AspNetCore.Mvc;

namespace Federation.Node.Dashboard.Pages;

/// <summary>The storage key (operator only): whether details rest sealed, unlock, and the panic lock (issue 24).</summary>
public sealed class StorageModel(DashboardContext context, StorageLock storageLock, StorageVault vault) : DashboardPage(context)
{
    public bool Allowed => Can("UnlockStorage");

    public StorageState State => vault.State;

    /// <summary>Whether the key rests wrapped to the network key too (docs/adr/0026).</summary>
    public bool Recoverable => vault.Recoverable;

    protected override void Load()
    {
    }

    public Task<IActionResult> OnPostLockAsync() =>
        RunAsync("LockStorage", () =>
        {
            storageLock.Lock();
            return Task.CompletedTask;
        }, "Locked: the storage key has left the node's memory. Sealed details cannot be read until an operator unlocks it.");

    public Task<IActionResult> OnPostUnlockAsync(string? passphrase, CancellationToken ct) =>
        RunAsync("UnlockStorage", async () =>
        {
            await storageLock.UnlockAsync(passphrase ?? "", create: false, ct);
        }, "Unlocked: sealed details can be read.");

    public Task<IActionResult> OnPostCreateAsync(string? passphrase, string? again, CancellationToken ct) =>
        RunAsync("UnlockStorage", async () =>
        {
            if (passphrase != again)
            {
                throw Domain.RuleViolation.Invalid("The two passphrases differ; nothing was set up.");
            }
            await storageLock.UnlockAsync(passphrase ?? "", create: true, ct);
        }, "The storage key is set up and unlocked: local details, referrals and incidents and report-backs sent to this network alone now rest sealed. Keep the passphrase apart from the server.");
}
