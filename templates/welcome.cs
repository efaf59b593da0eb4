<?cs include!"macros.cs" ?>
<?cs def:content() ?>
<section class="card">
  <h1>My tokens</h1>
  <p class="lead">You are signed in as <strong><?cs var:Session.user ?></strong>.</p>
  <p><a class="button primary" href="/enroll/totp">Add a token</a></p>
</section>
<?cs /def ?>
<?cs include!"layout.cs" ?>
