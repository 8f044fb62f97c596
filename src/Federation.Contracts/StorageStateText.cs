using Federation.Contracts.V1;

namespace Federation.Contracts;

/// <summary>How the node's start-up banner and `solnet info` put the storage key's state, in the same words.</summary>
public static class StorageStateText
{
    public static string Describe(StorageState state) => state switch
    {
        StorageState.Unlocked => "sealed at rest, unlocked",
        StorageState.Locked => "sealed at rest, LOCKED: sealed details cannot be read until an operator runs `solnet unlock`",
        StorageState.NoKey => "NOT SEALED: local details and reports rest in clear on this disk; set a storage passphrase with `solnet unlock --new`",
        _ => "not reported (a release before sealing at rest)",
    };
}
