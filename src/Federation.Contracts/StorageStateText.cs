using Federation.Contracts.V1;

namespace Federation.Contracts;

/// <summary>How the node's start-up banner, `solnet info` and the dashboard put the storage key's state, in the same words (short enough for a 100-column line).</summary>
public static class StorageStateText
{
    public static string Describe(StorageState state) => state switch
    {
        StorageState.Unlocked => "sealed at rest, unlocked",
        StorageState.Locked => "sealed at rest, LOCKED: sealed details unreadable until `solnet unlock`",
        StorageState.NoKey => "NOT SEALED: details rest in clear; set a passphrase: `solnet unlock --new`",
        _ => "not reported (a release before sealing at rest)",
    };
}
