<?cs include!"macros.cs" ?>
<?cs def:content() ?>
<section class="card narrow error-page">
  <p class="status-code"><?cs var:Error.status ?></p>
  <h1><?cs var:Page.title ?></h1>
  <p class="lead"><?cs var:Error.message ?></p>
  <p><a class="button" href="/">Back to the portal</a></p>
</section>
<?cs /def ?>
<?cs include!"layout.cs" ?>
