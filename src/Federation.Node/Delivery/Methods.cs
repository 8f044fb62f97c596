namespace Federation.Node.Delivery;

/// <summary>Full gRPC method names, as signed in peer call metadata.</summary>
public static class Methods
{
    public const string Identify = "/federation.v1.PeerService/Identify";
    public const string Deliver = "/federation.v1.PeerService/Deliver";
    public const string Submit = "/federation.v1.PeerService/Submit";
    public const string SubmitStream = "/federation.v1.PeerService/SubmitStream";
    public const string FetchEvents = "/federation.v1.PeerService/FetchEvents";
    public const string Hello = "/federation.v1.PeerService/Hello";
    public const string ListShared = "/federation.v1.PeerService/ListShared";
    public const string RelayPut = "/federation.v1.PeerService/RelayPut";
    public const string RelayDeliver = "/federation.v1.PeerService/RelayDeliver";
    public const string RelayCollect = "/federation.v1.PeerService/RelayCollect";
}
