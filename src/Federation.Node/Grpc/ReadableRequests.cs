using System.Reflection;
using Google.Protobuf;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Federation.Node.Grpc;

/// <summary>
/// Binds gRPC services as grpc-dotnet's own binder does, but with request marshallers
/// that turn unreadable protobuf into INVALID_ARGUMENT with a message a person can act on.
/// </summary>
/// <remarks>
/// Why: grpc-dotnet deserialises the request before any interceptor runs, so the
/// <see cref="ErrorInterceptor"/> never sees a malformed body. Left alone, garbage bytes
/// sent to any method came back as UNKNOWN "Exception was thrown by handler." and were
/// logged as a node failure with a stack trace — hostile input must get a clear refusal
/// instead. This provider replaces the default one for every service (ours, health and
/// reflection), using only public grpc-dotnet APIs.
/// </remarks>
public sealed class ReadableRequestsMethodProvider<TService> : IServiceMethodProvider<TService> where TService : class
{
    public void OnServiceMethodDiscovery(ServiceMethodProviderContext<TService> context)
    {
        var bind = BindMethod(typeof(TService));
        if (bind is null)
        {
            return;
        }
        bind.Invoke(null, [new Binder(context), null]);
    }

    /// <summary>The generated static BindService(ServiceBinderBase, TBase) named by [BindServiceMethod] on a base class.</summary>
    private static MethodInfo? BindMethod(Type service)
    {
        for (var t = service; t is not null; t = t.BaseType)
        {
            if (t.GetCustomAttribute<BindServiceMethodAttribute>(inherit: false) is { } a)
            {
                return a.BindType.GetMethod(a.BindMethodName, BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static,
                    [typeof(ServiceBinderBase), t]);
            }
        }
        return null;
    }

    /// <summary>A request marshaller whose deserialiser refuses malformed bytes with INVALID_ARGUMENT.</summary>
    internal static Method<TRequest, TResponse> Readable<TRequest, TResponse>(Method<TRequest, TResponse> method)
        where TRequest : class where TResponse : class
    {
        var inner = method.RequestMarshaller;
        var marshaller = new Marshaller<TRequest>(inner.ContextualSerializer, ctx =>
        {
            try
            {
                return inner.ContextualDeserializer(ctx);
            }
            catch (InvalidProtocolBufferException)
            {
                throw new RpcException(new global::Grpc.Core.Status(StatusCode.InvalidArgument,
                    $"The request to {method.Name} is not a readable {typeof(TRequest).Name}: the bytes are not valid protobuf for this method. " +
                    "Check that the client speaks this node's federation.v1 protocol."));
            }
        });
        return new Method<TRequest, TResponse>(method.Type, method.ServiceName, method.Name, marshaller, method.ResponseMarshaller);
    }

    private sealed class Binder(ServiceMethodProviderContext<TService> context) : ServiceBinderBase
    {
        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryServerMethod<TRequest, TResponse>? handler) =>
            context.AddUnaryMethod(Readable(method), Metadata(out var m, method.Name, typeof(TRequest), typeof(ServerCallContext)),
                (UnaryServerMethod<TService, TRequest, TResponse>)Delegate.CreateDelegate(typeof(UnaryServerMethod<TService, TRequest, TResponse>), m));

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ServerStreamingServerMethod<TRequest, TResponse>? handler) =>
            context.AddServerStreamingMethod(Readable(method), Metadata(out var m, method.Name, typeof(TRequest), typeof(IServerStreamWriter<TResponse>), typeof(ServerCallContext)),
                (ServerStreamingServerMethod<TService, TRequest, TResponse>)Delegate.CreateDelegate(typeof(ServerStreamingServerMethod<TService, TRequest, TResponse>), m));

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ClientStreamingServerMethod<TRequest, TResponse>? handler) =>
            context.AddClientStreamingMethod(Readable(method), Metadata(out var m, method.Name, typeof(IAsyncStreamReader<TRequest>), typeof(ServerCallContext)),
                (ClientStreamingServerMethod<TService, TRequest, TResponse>)Delegate.CreateDelegate(typeof(ClientStreamingServerMethod<TService, TRequest, TResponse>), m));

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, DuplexStreamingServerMethod<TRequest, TResponse>? handler) =>
            context.AddDuplexStreamingMethod(Readable(method), Metadata(out var m, method.Name, typeof(IAsyncStreamReader<TRequest>), typeof(IServerStreamWriter<TResponse>), typeof(ServerCallContext)),
                (DuplexStreamingServerMethod<TService, TRequest, TResponse>)Delegate.CreateDelegate(typeof(DuplexStreamingServerMethod<TService, TRequest, TResponse>), m));

        /// <summary>The service's handler (its override, or the base's UNIMPLEMENTED one) and the endpoint metadata grpc-dotnet would attach.</summary>
        private static List<object> Metadata(out MethodInfo handler, string name, params Type[] parameters)
        {
            handler = typeof(TService).GetMethod(name, BindingFlags.Public | BindingFlags.Instance, parameters)
                ?? throw new InvalidOperationException($"{typeof(TService).Name} has no method {name}.");
            var metadata = new List<object>();
            metadata.AddRange(typeof(TService).GetCustomAttributes(inherit: true));
            metadata.AddRange(handler.GetCustomAttributes(inherit: true));
            metadata.Add(new HttpMethodMetadata(["POST"], acceptCorsPreflight: true));
            return metadata;
        }
    }
}

public static class ReadableRequests
{
    /// <summary>Call after AddGrpc: swaps grpc-dotnet's default method provider for <see cref="ReadableRequestsMethodProvider{TService}"/>.</summary>
    public static IServiceCollection AddReadableRequests(this IServiceCollection services)
    {
        services.RemoveAll(typeof(IServiceMethodProvider<>));
        services.AddSingleton(typeof(IServiceMethodProvider<>), typeof(ReadableRequestsMethodProvider<>));
        return services;
    }
}
