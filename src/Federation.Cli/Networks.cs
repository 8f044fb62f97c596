using Federation.Contracts.V1;
using Grpc.Core;

namespace Federation.Cli;

/// <summary>
/// Networks as people know them, by name with the start of their fingerprint (issue 17,
/// item 6). The same reading as the dashboard's (DashboardContext.Who): the node's peer
/// list, which ListPeers serves from the same PeerDirectory, and the node's own name.
/// </summary>
public sealed class Networks(string me, string myName, IReadOnlyDictionary<string, string> names)
{
    /// <summary>No names known (an older node, or a token that may not list peers): fingerprints only.</summary>
    public static readonly Networks Unnamed = new("", "", new Dictionary<string, string>());

    /// <summary>"beta (3f2a-…)", "alpha (this network)", or "network 3f2a-…" for a network this node has not added.</summary>
    public string Who(string nodeId) =>
        Contracts.NetworkText.Who(nodeId, me, myName, names.GetValueOrDefault(nodeId), Format.Short(nodeId));

    /// <summary>Two calls, made only when text for people names a network; a refusal leaves fingerprints, never fails the command.</summary>
    public static Networks Load(Session s)
    {
        try
        {
            var info = s.Info;
            var peers = s.Client.ListPeers(new ListPeersRequest(), s.Call).Peers;
            return new Networks(info.NodeId, info.Name, peers.ToDictionary(p => p.NodeId, p => p.Name));
        }
        catch (RpcException ex) when (ex.StatusCode is StatusCode.PermissionDenied or StatusCode.Unimplemented)
        {
            return Unnamed;
        }
    }
}
