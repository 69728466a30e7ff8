using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.ApiKeys;
using Crowd.Server.Features.Audit;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Web;

var builder = WebApplication.CreateBuilder(args);
builder.AddCrowdWeb();
builder.Services.AddCrowdDatabase();
builder.Services.AddCrowdAccounts();
builder.Services.AddCrowdAudit();

var app = builder.Build();
await app.UseCrowdDatabaseAsync();
await app.SeedCrowdAdminAsync();
app.UseCrowdWeb();
app.MapAccounts();
app.MapApiKeys();
app.MapRazorPages();

app.Run();

public partial class Program;
