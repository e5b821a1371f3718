"""Messages to citizens outside the browser (SMS), behind one pluggable sender."""
