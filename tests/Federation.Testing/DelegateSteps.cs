using Federation.Contracts.V1;
using Grpc.Core;

namespace Federation.Testing;

/// <summary>Delegate calls the tests make on any kind of node, in-process or in a process of its own.</summary>
public static class DelegateSteps
{
    /// <summary>Publishes the sample call-out to <paramref name="recipients"/>.</summary>
    public static async Task<CallOutState> PublishSampleAsync(this DelegateService.DelegateServiceClient node, Metadata auth, IEnumerable<string> recipients)
    {
        var request = new PublishCallOutRequest { Content = Samples.CallOut() };
        request.Recipients.AddRange(recipients);
        return await node.PublishCallOutAsync(request, auth);
    }

    public static async Task CloseAsync(this DelegateService.DelegateServiceClient node, Metadata auth, string callOutId) =>
        await node.CloseCallOutAsync(new CloseCallOutRequest { CallOutId = callOutId, Reason = "done" }, auth);
}
