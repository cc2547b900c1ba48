using Gateway.Runtime.Http;
using Microsoft.Extensions.Primitives;

namespace Gateway.Runtime.Tests.Http;

/// <summary><c>Accept-Encoding</c> read as RFC 9110 §12.5.3 says, every input with a defined answer.</summary>
public class AcceptEncodingTests
{
    [Theory]
    [InlineData("gzip", ContentCoding.Gzip)]
    [InlineData("br", ContentCoding.Brotli)]
    [InlineData("gzip, br", ContentCoding.Brotli)]                   // a tie: brotli
    [InlineData("br;q=0.5, gzip", ContentCoding.Gzip)]
    [InlineData("gzip;q=0.001, br;q=0", ContentCoding.Gzip)]
    [InlineData("br; q=0.7 ,gzip ;q=0.6", ContentCoding.Brotli)]     // spaces around ";" and ","
    [InlineData("*", ContentCoding.Brotli)]
    [InlineData("*;q=0.5, br;q=0", ContentCoding.Gzip)]              // "*" covers only what is not named
    [InlineData("identity;q=0.5, gzip", ContentCoding.Gzip)]
    [InlineData("identity, gzip", ContentCoding.Gzip)]               // a tie with identity: compressed
    [InlineData("identity, gzip;q=0.9", ContentCoding.Identity)]     // identity ranked first
    [InlineData("identity", ContentCoding.Identity)]
    [InlineData("gzip;q=0", ContentCoding.Identity)]
    [InlineData("deflate, compress, zstd", ContentCoding.Identity)]
    [InlineData("", ContentCoding.Identity)]
    [InlineData("gzip;q=1.0, gzip;q=0", ContentCoding.Gzip)]         // listed twice: the first weight
    [InlineData("X-GZIP;Q=0.5", ContentCoding.Gzip)]
    public void Choose_WellFormed_TheHeaviestAcceptableCoding(string header, ContentCoding expected) =>
        Assert.Equal(expected, AcceptEncoding.Choose(header).Coding);

    [Theory]
    [InlineData("gzip;q=1.5")]        // over 1
    [InlineData("gzip;q=1.001")]
    [InlineData("gzip;q=0.0001")]     // four decimals
    [InlineData("gzip;q=-1")]
    [InlineData("gzip;q=.5")]
    [InlineData("gzip;q=abc")]
    [InlineData("gzip;q")]
    [InlineData("gzip;q =0.5")]
    [InlineData("gzip;level=9")]      // an unknown parameter
    [InlineData("gzip;q=0.5;x=1")]
    [InlineData("gz ip")]
    [InlineData("gzip\u00e9")]
    [InlineData(";;;,,,")]
    public void Choose_MalformedElement_Skipped(string header) =>
        Assert.Equal(ContentCoding.Identity, AcceptEncoding.Choose(header).Coding);

    [Theory]
    [InlineData("identity;q=0, gzip", true)]
    [InlineData("*;q=0, gzip", true)]
    [InlineData("*;q=0, identity, gzip", false)]   // a more specific entry for identity wins over "*"
    [InlineData("identity;q=0.1", false)]
    [InlineData("gzip", false)]
    public void Choose_IdentityRefused_OnlyWhenWeightedZero(string header, bool refused) =>
        Assert.Equal(refused, AcceptEncoding.Choose(header).IdentityRefused);

    [Fact]
    public void Choose_SeveralHeaderLines_ReadAsOneList() =>
        Assert.Equal(ContentCoding.Gzip, AcceptEncoding.Choose(new StringValues(["br;q=0.1", "gzip"])).Coding);

    [Fact]
    public void Choose_HundredThousandElements_OnePassAndTheValidOneCounts()
    {
        string hostile = string.Join(",", Enumerable.Repeat("x;q=0.1", 100_000)) + ",br";

        Assert.Equal(ContentCoding.Brotli, AcceptEncoding.Choose(hostile).Coding);
    }
}
