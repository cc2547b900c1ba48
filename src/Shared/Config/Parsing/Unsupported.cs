namespace Gateway.Config.Parsing;

/// <summary>
/// KrakenD features a compiled .NET gateway cannot offer, each with what to do instead (docs/compatibility.md). They
/// stay build errors (GW2001): ignoring one would serve something other than what the file says.
/// </summary>
internal static class Unsupported
{
    private static readonly (string Name, string Instead)[] s_reasons =
    {
        ("plugin", "Go plugins are shared objects loaded into KrakenD's Go process and cannot be loaded here; move the plugin's logic into a service behind a backend, or into gateway/request templates"),
        ("plugin/http-server", "Go plugins are shared objects loaded into KrakenD's Go process and cannot be loaded here; move the plugin's logic into a service behind a backend, or into gateway/request templates"),
        ("plugin/http-client", "Go plugins are shared objects loaded into KrakenD's Go process and cannot be loaded here; move the plugin's logic into a service behind a backend, or into gateway/request templates"),
        ("plugin/req-resp-modifier", "Go plugins are shared objects loaded into KrakenD's Go process and cannot be loaded here; move the plugin's logic into a service behind a backend, or into gateway/request templates"),
        ("async_agent", "async agents consume message queues without an HTTP client; run a small consumer that calls the gateway's endpoint for each message"),
        ("backend/pubsub/publisher", "pub/sub backends need a message-broker client; put an HTTP service in front of the broker and make it the backend"),
        ("backend/pubsub/subscriber", "pub/sub backends need a message-broker client; put an HTTP service in front of the broker and make it the backend"),
        ("backend/amqp/consumer", "AMQP backends need a message-broker client; put an HTTP service in front of the broker and make it the backend"),
        ("backend/amqp/producer", "AMQP backends need a message-broker client; put an HTTP service in front of the broker and make it the backend"),
        ("backend/lambda", "call the function over HTTP instead (a Lambda function URL or an API Gateway route) as an ordinary backend"),
    };

    /// <summary>Why <paramref name="name"/> (a key or an <c>extra_config</c> namespace) cannot be supported, or null.</summary>
    public static string? Reason(string name)
    {
        foreach ((string feature, string instead) in s_reasons)
        {
            if (feature == name)
            {
                return instead;
            }
        }

        return null;
    }
}
