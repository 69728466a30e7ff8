using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.Payouts;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Web;

var builder = WebApplication.CreateBuilder(args);
builder.AddCrowdWeb();
builder.Services.AddCrowdDatabase();
builder.Services.AddCrowdAccounts();
builder.AddCrowdPayouts();

var app = builder.Build();
await app.UseCrowdDatabaseAsync();
app.UseCrowdWeb();
app.MapAccounts();
app.MapPayouts();
app.MapRazorPages();

app.Run();

public partial class Program;
